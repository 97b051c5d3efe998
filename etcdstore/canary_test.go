package etcdstore_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/etcdstore"
)

func ptr(v int64) *int64 { return &v }

// Read then save: the save is one transaction, thanks to the revision the
// read left in the cache.
func TestSaveAfterGetIsOneRequest(t *testing.T) {
	cli, c := talliedClient(t)
	s := newStore(t, cli)
	ctx := t.Context()
	ok, err := s.Canary().SaveRollout(ctx, "r1", baldur.Record{"version": 1}, time.Minute, nil)
	require.NoError(t, err)
	require.True(t, ok)
	c.take()

	// A second Store (another process) knows nothing: read, then save.
	s2, err := etcdstore.New(cli, etcdstore.WithPrefix(s.Keys().Prefix()))
	require.NoError(t, err)
	defer s2.Close()
	r, err := s2.Canary().GetRollout(ctx, "r1")
	require.NoError(t, err)
	require.Equal(t, map[string]int{"get": 1}, c.take())
	ok, err = s2.Canary().SaveRollout(ctx, "r1", baldur.Record{"version": baldur.VersionOf(r) + 1}, time.Minute, ptr(1))
	require.NoError(t, err)
	require.True(t, ok)
	got := c.take()
	require.Equal(t, 1, got["txn"], "the save is one transaction: %v", got)
	require.Zero(t, got["get"], "no read before the save: %v", got)

	// The Store that saved last saves again without reading.
	ok, err = s2.Canary().SaveRollout(ctx, "r1", baldur.Record{"version": 3}, time.Minute, ptr(2))
	require.NoError(t, err)
	require.True(t, ok)
	got = c.take()
	require.Equal(t, 1, got["txn"], "%v", got)
	require.Zero(t, got["get"], "%v", got)
}

// A conflict is decided from the transaction's Else branch: no extra read.
func TestConflictCostsNoExtraRead(t *testing.T) {
	cli, c := talliedClient(t)
	a := newStore(t, cli)
	b, err := etcdstore.New(cli, etcdstore.WithPrefix(a.Keys().Prefix()))
	require.NoError(t, err)
	defer b.Close()
	ctx := t.Context()

	_, err = a.Canary().SaveRollout(ctx, "r1", baldur.Record{"version": 1}, time.Minute, nil)
	require.NoError(t, err)
	_, err = a.Canary().GetRollout(ctx, "r1")
	require.NoError(t, err)
	_, err = b.Canary().GetRollout(ctx, "r1")
	require.NoError(t, err)
	ok, err := b.Canary().SaveRollout(ctx, "r1", baldur.Record{"version": 2}, time.Minute, ptr(1))
	require.NoError(t, err)
	require.True(t, ok)
	c.take()

	ok, err = a.Canary().SaveRollout(ctx, "r1", baldur.Record{"version": 2, "from": "a"}, time.Minute, ptr(1))
	require.NoError(t, err)
	require.False(t, ok, "a's expected version is stale")
	got := c.take()
	require.Equal(t, 1, got["txn"], "one transaction: %v", got)
	require.Zero(t, got["get"], "no read: %v", got)

	// a learned version 2 from the Else branch: its next save is one txn.
	ok, err = a.Canary().SaveRollout(ctx, "r1", baldur.Record{"version": 3}, time.Minute, ptr(2))
	require.NoError(t, err)
	require.True(t, ok)
	got = c.take()
	require.Equal(t, 1, got["txn"], "%v", got)
	require.Zero(t, got["get"], "%v", got)
}

// A rewrite that keeps the version (a TTL reset) changes the mod revision
// but not the outcome: the save retries on the new revision and wins.
func TestSameVersionRewriteIsNotAConflict(t *testing.T) {
	cli, c := talliedClient(t)
	a := newStore(t, cli)
	b, err := etcdstore.New(cli, etcdstore.WithPrefix(a.Keys().Prefix()))
	require.NoError(t, err)
	defer b.Close()
	ctx := t.Context()

	_, err = a.Canary().SaveRollout(ctx, "r1", baldur.Record{"version": 1}, time.Minute, nil)
	require.NoError(t, err)
	_, err = b.Canary().SaveRollout(ctx, "r1", baldur.Record{"version": 1, "touched": true}, time.Minute, nil)
	require.NoError(t, err)
	c.take()
	ok, err := a.Canary().SaveRollout(ctx, "r1", baldur.Record{"version": 2}, time.Minute, ptr(1))
	require.NoError(t, err)
	require.True(t, ok)
	got := c.take()
	require.Equal(t, 2, got["txn"], "the stale revision fails once, the retry wins: %v", got)
	require.Zero(t, got["get"], "%v", got)
}

// Many Stores (processes) doing read-then-save on one rollout: every
// version is won exactly once.
func TestConcurrentStoresNeverBothWin(t *testing.T) {
	cli := newClient(t)
	first := newStore(t, cli)
	prefix := first.Keys().Prefix()
	ctx := t.Context()
	_, err := first.Canary().SaveRollout(ctx, "r", baldur.Record{"version": 0}, time.Minute, nil)
	require.NoError(t, err)

	const writers, rounds = 6, 15
	var mu sync.Mutex
	wins := map[int64]int{}
	var wg sync.WaitGroup
	for range writers {
		s, err := etcdstore.New(cli, etcdstore.WithPrefix(prefix))
		require.NoError(t, err)
		defer s.Close()
		wg.Go(func() {
			for range rounds {
				r, err := s.Canary().GetRollout(ctx, "r")
				if err != nil {
					t.Error(err)
					return
				}
				v := baldur.VersionOf(r)
				ok, err := s.Canary().SaveRollout(ctx, "r", baldur.Record{"version": v + 1}, time.Minute, ptr(v))
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					wins[v]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	r, err := first.Canary().GetRollout(ctx, "r")
	require.NoError(t, err)
	final := baldur.VersionOf(r)
	require.Len(t, wins, int(final), "every version from 0 to final-1 was won")
	for v, n := range wins {
		require.Equal(t, 1, n, "version %d was won %d times", v, n)
	}
}

// Saves with one TTL share leases.
func TestSavesShareLeases(t *testing.T) {
	cli, c := talliedClient(t)
	s := newStore(t, cli)
	ctx := t.Context()
	const n = 100
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := "r" + string(rune('A'+i%26)) + string(rune('a'+i/26))
			if _, err := s.Canary().SaveRollout(ctx, id, baldur.Record{"i": i}, 30*time.Second, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	resp, err := cli.Get(ctx, s.Keys().Family(etcdstore.FamilyRollout), clientv3.WithPrefix())
	require.NoError(t, err)
	require.Len(t, resp.Kvs, n)
	leases := map[int64]bool{}
	for _, kv := range resp.Kvs {
		require.NotZero(t, kv.Lease, "a record with a TTL has a lease")
		leases[kv.Lease] = true
	}
	got := c.take()
	t.Logf("%d concurrent saves: %d distinct leases, %d grants", n, len(leases), got["grant"])
	require.Less(t, len(leases), n/4, "concurrent saves with one TTL share leases")
	require.LessOrEqual(t, got["grant"], len(leases)+1)

	// A steady flow, one save at a time, over about 2.5 s.
	leases = map[int64]bool{}
	const flow = 100
	for i := range flow {
		err := s.Chaos().Save(ctx, "e"+string(rune('A'+i%26))+string(rune('a'+i/26)), baldur.Record{"i": i}, 20*time.Second)
		require.NoError(t, err)
		time.Sleep(25 * time.Millisecond)
	}
	resp, err = cli.Get(ctx, s.Keys().Family(etcdstore.FamilyExperiment), clientv3.WithPrefix())
	require.NoError(t, err)
	for _, kv := range resp.Kvs {
		leases[kv.Lease] = true
	}
	got = c.take()
	t.Logf("a flow of %d saves: %d distinct leases, %d grants, %d puts", flow, len(leases), got["grant"], got["put"])
	require.Less(t, got["grant"], flow/2, "a flow of saves shares leases")
	require.Equal(t, flow, got["put"])
}

func TestFindCompletedNarrowsByLiteralPrefix(t *testing.T) {
	s := newStore(t, nil)
	ctx := t.Context()
	for _, id := range []string{"abc-1", "abc-2", "abd-1", "x"} {
		_, err := s.Canary().SaveRollout(ctx, id, baldur.Record{"id": id}, time.Minute, nil)
		require.NoError(t, err)
	}
	for pattern, want := range map[string][]string{
		"abc-*":   {"abc-1", "abc-2"},
		"ab?-1":   {"abc-1", "abd-1"},
		"abc-1":   {"abc-1"},
		"ab[c]-2": {"abc-2"},
		"*":       {"abc-1", "abc-2", "abd-1", "x"},
	} {
		rs, err := s.Canary().FindCompleted(ctx, pattern)
		require.NoError(t, err)
		var ids []string
		for _, r := range rs {
			ids = append(ids, r["id"].(string))
		}
		require.Equal(t, want, ids, "pattern %q", pattern)
	}
}
