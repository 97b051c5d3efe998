package storetest

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur"
)

// Env is one fresh, empty store plus the suite's hook for time.
type Env[S any] struct {
	Store S
	// Advance lets d of time pass for the store: memstore advances its fake clock; a real
	// backend sleeps. The suite's margins are >= 1 s on each side of a deadline and TTLs
	// are >= 2 s, so a backend with whole-second leases passes unchanged.
	Advance func(d time.Duration)
}

// Factory returns a fresh Env. The suite calls it once per case, from the
// case's own goroutine; it must return an isolated store (e.g. a fresh key
// prefix) and register its cleanup with t.Cleanup.
type Factory[S any] func(t *testing.T) Env[S]

// testCase is one conformance case.
type testCase[S any] struct {
	name string
	run  func(t *testing.T, e Env[S])
}

// The case prefixes CaseNames uses, one per Run function.
const (
	prefixCanary        = "Canary/"
	prefixChaos         = "Chaos/"
	prefixConfigHistory = "ConfigHistory/"
	prefixCrossCluster  = "CrossCluster/"
)

// RunCanary runs every CanaryRolloutStore case as a parallel subtest of t.
func RunCanary(t *testing.T, f Factory[baldur.CanaryRolloutStore]) {
	runCases(t, f, canaryCases())
}

// RunChaos runs every ChaosExperimentStore case as a parallel subtest of t.
func RunChaos(t *testing.T, f Factory[baldur.ChaosExperimentStore]) {
	runCases(t, f, chaosCases())
}

// RunConfigHistory runs every ConfigHistoryStore case as a parallel subtest
// of t.
func RunConfigHistory(t *testing.T, f Factory[baldur.ConfigHistoryStore]) {
	runCases(t, f, historyCases())
}

// RunCrossCluster runs every CrossClusterStore case as a parallel subtest of
// t.
func RunCrossCluster(t *testing.T, f Factory[baldur.CrossClusterStore]) {
	runCases(t, f, crossClusterCases())
}

// CaseNames returns the name of every case the four Run functions run,
// prefixed with the store ("Canary/", "Chaos/", "ConfigHistory/",
// "CrossCluster/"), so that a backend can check it ran them all. Run inside a
// test named TestCanary (and so on), a case's t.Name() is "Test" + its entry
// here.
func CaseNames() []string {
	var names []string
	names = appendNames(names, prefixCanary, canaryCases())
	names = appendNames(names, prefixChaos, chaosCases())
	names = appendNames(names, prefixConfigHistory, historyCases())
	names = appendNames(names, prefixCrossCluster, crossClusterCases())
	return names
}

func appendNames[S any](names []string, prefix string, cases []testCase[S]) []string {
	for _, c := range cases {
		names = append(names, prefix+c.name)
	}
	return names
}

func runCases[S any](t *testing.T, f Factory[S], cases []testCase[S]) {
	t.Helper()
	require.NotNil(t, f, "storetest: nil Factory")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := f(t)
			require.NotNil(t, env.Advance, "storetest: the Factory returned an Env without Advance")
			c.run(t, env)
		})
	}
}

// Durations the cases use. Every TTL is at least 2 s; every check is at least
// 1 s away from the deadline it is about.
const (
	ttlShort = 2 * time.Second  // a TTL that is waited out
	ttlLong  = 30 * time.Second // a TTL that must not pass during a case
	past     = 3 * time.Second  // ttlShort plus the 1 s margin
)

// badID is an id, config type or cluster name every store must refuse.
type badID struct {
	what string
	id   string
}

func badIDs() []badID {
	return []badID{
		{"empty", ""},
		{"slash", "a/b"},
		{"leading slash", "/a"},
		{"trailing slash", "a/"},
		{"300 bytes", strings.Repeat("x", 300)},
		{"257 bytes", strings.Repeat("y", 257)},
		{"newline", "a\nb"},
		{"NUL", "a\x00b"},
		{"tab", "a\tb"},
		{"DEL", "a\x7fb"},
		{"C1 control", "a\u0085b"},
		{"invalid UTF-8", "a\xffb"},
		{"truncated UTF-8", "\xe2\x82"},
	}
}

// badRecord is a value that cannot be stored as a JSON object.
type badRecord struct {
	what string
	rec  baldur.Record
}

func badRecords() []badRecord {
	return []badRecord{
		{"nil record", nil},
		{"channel", baldur.Record{"c": make(chan int)}},
		{"function", baldur.Record{"f": func() {}}},
		{"NaN", baldur.Record{"x": math.NaN()}},
		{"+Inf", baldur.Record{"x": math.Inf(1)}},
		{"nested NaN", baldur.Record{"n": map[string]any{"x": math.NaN()}}},
		{"complex", baldur.Record{"z": complex(1, 2)}},
	}
}

// longID is exactly baldur.MaxIDLength bytes and must be accepted.
func longID(prefix string) string {
	return prefix + strings.Repeat("é", (baldur.MaxIDLength-len(prefix))/2) + strings.Repeat("x", (baldur.MaxIDLength-len(prefix))%2)
}

// requireInvalid asserts err is ErrInvalidArgument.
func requireInvalid(t *testing.T, err error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Truef(t, errors.Is(err, baldur.ErrInvalidArgument), "want ErrInvalidArgument, got %v (%v)", err, msgAndArgs)
}

// requireNotFound asserts err is ErrNotFound.
func requireNotFound(t *testing.T, err error, msgAndArgs ...any) {
	t.Helper()
	require.Error(t, err, msgAndArgs...)
	require.Truef(t, errors.Is(err, baldur.ErrNotFound), "want ErrNotFound, got %v (%v)", err, msgAndArgs)
}

// cancelled returns a context that is already cancelled.
func cancelled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

// concurrently runs fn(i) for i in [0, n) on n goroutines released together,
// and waits for all of them.
func concurrently(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

// mutate changes a record in place at its top level and, when present, in
// the nested map "nested" and the list "list", so that a test can check the
// store kept its own copy.
func mutate(r baldur.Record) {
	if n, ok := r["nested"].(map[string]any); ok {
		n["a"] = "mutated"
		n["added"] = true
	}
	if l, ok := r["list"].([]any); ok && len(l) > 0 {
		l[0] = "mutated"
	}
	r["top"] = "mutated"
	r["added"] = true
}

// sample is a record with a nested object and a list, as stored and as it
// reads back (integers as int64).
func sample(id string) (in, out baldur.Record) {
	in = baldur.Record{
		"id":     id,
		"top":    "value",
		"ratio":  0.25,
		"count":  7,
		"flag":   true,
		"none":   nil,
		"nested": map[string]any{"a": 1, "b": "two"},
		"list":   []any{1, "x", 2.5},
	}
	out = baldur.Record{
		"id":     id,
		"top":    "value",
		"ratio":  0.25,
		"count":  int64(7),
		"flag":   true,
		"none":   nil,
		"nested": map[string]any{"a": int64(1), "b": "two"},
		"list":   []any{int64(1), "x", 2.5},
	}
	return in, out
}
