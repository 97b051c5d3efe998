package memstore_test

import (
	"flag"
	"strings"
	"sync"
	"testing"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/memstore"
	"github.com/baldur-go/baldur/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// ran records the name of every conformance case that asked for a store.
var ran sync.Map

// env returns a fresh store on a fresh fake clock; Advance moves the clock,
// so the suite's expiry cases take no wall time.
func env[S any](t *testing.T, pick func(*memstore.Store) S) storetest.Env[S] {
	ran.Store(strings.TrimPrefix(t.Name(), "TestConformance/"), true)
	clock := clockwork.NewFakeClock()
	return storetest.Env[S]{Store: pick(memstore.New(memstore.WithClock(clock))), Advance: clock.Advance}
}

func canary(t *testing.T) storetest.Env[baldur.CanaryRolloutStore] {
	return env(t, (*memstore.Store).Canary)
}

func chaos(t *testing.T) storetest.Env[baldur.ChaosExperimentStore] {
	return env(t, (*memstore.Store).Chaos)
}

func history(t *testing.T) storetest.Env[baldur.ConfigHistoryStore] {
	return env(t, (*memstore.Store).ConfigHistory)
}

func crossCluster(t *testing.T) storetest.Env[baldur.CrossClusterStore] {
	return env(t, (*memstore.Store).CrossCluster)
}

// TestConformance runs the whole storetest suite and checks that every case
// it names was run: each subtest's t.Run returns only after its parallel
// cases have finished.
func TestConformance(t *testing.T) {
	t.Run("Canary", func(t *testing.T) { storetest.RunCanary(t, canary) })
	t.Run("Chaos", func(t *testing.T) { storetest.RunChaos(t, chaos) })
	t.Run("ConfigHistory", func(t *testing.T) { storetest.RunConfigHistory(t, history) })
	t.Run("CrossCluster", func(t *testing.T) { storetest.RunCrossCluster(t, crossCluster) })

	run, skip := flag.Lookup("test.run").Value.String(), flag.Lookup("test.skip").Value.String()
	if strings.Contains(run, "/") || skip != "" {
		t.Logf("-run %q -skip %q select cases: not comparing with CaseNames", run, skip)
		return
	}
	var got []string
	ran.Range(func(k, _ any) bool { got = append(got, k.(string)); return true })
	want := storetest.CaseNames()
	require.Len(t, got, len(want), "cases run")
	require.ElementsMatch(t, want, got)
	t.Logf("%d conformance cases run", len(got))
}

// TestRequestUpdaterConformance runs the suite of the optional
// RequestUpdater extension, which memstore implements.
func TestRequestUpdaterConformance(t *testing.T) {
	storetest.RunRequestUpdater(t, func(t *testing.T) storetest.Env[storetest.RequestStore] {
		clock := clockwork.NewFakeClock()
		s, ok := memstore.New(memstore.WithClock(clock)).CrossCluster().(storetest.RequestStore)
		require.True(t, ok, "memstore's cross-cluster store implements baldur.RequestUpdater")
		return storetest.Env[storetest.RequestStore]{Store: s, Advance: clock.Advance}
	})
}
