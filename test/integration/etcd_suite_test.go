package integration

import (
	"sort"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/etcdstore"
	"github.com/baldur-go/baldur/internal/etcdtest"
	"github.com/baldur-go/baldur/storetest"
)

// TestEtcdClusterSuite runs the whole conformance suite against etcdstore on
// a 3-member cluster, one fresh Store and key prefix per case, through a
// client that knows every member, and checks that every case of the suite
// ran.
func TestEtcdClusterSuite(t *testing.T) {
	c := etcdtest.NewCluster(t, 3)
	cli := c.Client()

	var mu sync.Mutex
	var ran []string
	newStore := func(t *testing.T) *etcdstore.Store {
		mu.Lock()
		ran = append(ran, t.Name())
		mu.Unlock()
		return openStore(t, cli, etcdtest.Prefix(t))
	}

	// The four stores run as parallel subtests so that their sleeps overlap.
	t.Run("Canary", func(t *testing.T) {
		t.Parallel()
		storetest.RunCanary(t, func(t *testing.T) storetest.Env[baldur.CanaryRolloutStore] {
			return storetest.Env[baldur.CanaryRolloutStore]{Store: newStore(t).Canary(), Advance: time.Sleep}
		})
	})
	t.Run("Chaos", func(t *testing.T) {
		t.Parallel()
		storetest.RunChaos(t, func(t *testing.T) storetest.Env[baldur.ChaosExperimentStore] {
			return storetest.Env[baldur.ChaosExperimentStore]{Store: newStore(t).Chaos(), Advance: time.Sleep}
		})
	})
	t.Run("ConfigHistory", func(t *testing.T) {
		t.Parallel()
		storetest.RunConfigHistory(t, func(t *testing.T) storetest.Env[baldur.ConfigHistoryStore] {
			return storetest.Env[baldur.ConfigHistoryStore]{Store: newStore(t).ConfigHistory(), Advance: time.Sleep}
		})
	})
	t.Run("CrossCluster", func(t *testing.T) {
		t.Parallel()
		storetest.RunCrossCluster(t, func(t *testing.T) storetest.Env[baldur.CrossClusterStore] {
			return storetest.Env[baldur.CrossClusterStore]{Store: newStore(t).CrossCluster(), Advance: time.Sleep}
		})
	})

	// Parallel subtests finish before this cleanup runs.
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		want := storetest.CaseNames()
		for i, n := range want {
			want[i] = t.Name() + "/" + n
		}
		mu.Lock()
		got := append([]string(nil), ran...)
		mu.Unlock()
		sort.Strings(want)
		sort.Strings(got)
		if len(got) != len(want) {
			t.Errorf("ran %d cases, the suite has %d", len(got), len(want))
			return
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("case %q ran, want %q", got[i], want[i])
				return
			}
		}
	})
}

// openStore returns a Store on prefix over cli, closed at the end of the
// test.
func openStore(t testing.TB, cli *clientv3.Client, prefix string) *etcdstore.Store {
	t.Helper()
	s, err := etcdstore.New(cli,
		etcdstore.WithPrefix(prefix),
		etcdstore.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel))),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}
