package storetest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur/storetest"
)

// TestCaseNames checks the suite's size and that every name is usable as a
// subtest name as is: unique, one of the four store prefixes, no spaces (Go
// would rewrite them) and no further '/'.
func TestCaseNames(t *testing.T) {
	names := storetest.CaseNames()
	require.GreaterOrEqual(t, len(names), 70)
	seen := map[string]bool{}
	perStore := map[string]int{}
	for _, n := range names {
		require.False(t, seen[n], "duplicate case %q", n)
		seen[n] = true
		store, rest, ok := strings.Cut(n, "/")
		require.True(t, ok, "case %q has no store prefix", n)
		require.Contains(t, []string{"Canary", "Chaos", "ConfigHistory", "CrossCluster"}, store)
		require.NotEmpty(t, rest)
		require.NotContains(t, rest, "/", "case %q", n)
		require.NotContains(t, n, " ", "case %q", n)
		perStore[store]++
	}
	t.Logf("%d cases: %v", len(names), perStore)
}
