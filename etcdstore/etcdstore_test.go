package etcdstore_test

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/etcdstore"
	"github.com/baldur-go/baldur/storetest"
)

// TestSuite runs the conformance suite against the shared etcd member, one
// fresh Store (and key prefix) per case, and checks that every case of the
// suite ran.
func TestSuite(t *testing.T) {
	cli := newClient(t)
	var mu sync.Mutex
	var ran []string
	factory := func(t *testing.T) *etcdstore.Store {
		mu.Lock()
		ran = append(ran, t.Name())
		mu.Unlock()
		return newStore(t, cli)
	}
	t.Run("Canary", func(t *testing.T) {
		storetest.RunCanary(t, func(t *testing.T) storetest.Env[baldur.CanaryRolloutStore] {
			return storetest.Env[baldur.CanaryRolloutStore]{Store: factory(t).Canary(), Advance: time.Sleep}
		})
	})
	t.Run("Chaos", func(t *testing.T) {
		storetest.RunChaos(t, func(t *testing.T) storetest.Env[baldur.ChaosExperimentStore] {
			return storetest.Env[baldur.ChaosExperimentStore]{Store: factory(t).Chaos(), Advance: time.Sleep}
		})
	})
	t.Run("ConfigHistory", func(t *testing.T) {
		storetest.RunConfigHistory(t, func(t *testing.T) storetest.Env[baldur.ConfigHistoryStore] {
			return storetest.Env[baldur.ConfigHistoryStore]{Store: factory(t).ConfigHistory(), Advance: time.Sleep}
		})
	})
	t.Run("CrossCluster", func(t *testing.T) {
		storetest.RunCrossCluster(t, func(t *testing.T) storetest.Env[baldur.CrossClusterStore] {
			return storetest.Env[baldur.CrossClusterStore]{Store: factory(t).CrossCluster(), Advance: time.Sleep}
		})
	})

	want := storetest.CaseNames()
	for i, n := range want {
		want[i] = t.Name() + "/" + n
	}
	sort.Strings(want)
	sort.Strings(ran)
	require.Equal(t, len(want), len(ran), "the suite ran as many cases as it has")
	require.Equal(t, want, ran, "the suite ran every case once")
}
