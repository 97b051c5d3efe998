package etcdstore_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/etcdstore"
	"github.com/baldur-go/baldur/storetest"
)

// TestRequestUpdaterConformance runs the suite of the optional
// RequestUpdater extension against the shared member, a fresh Store (and
// prefix) per case. The tests below cover what is etcd's own: conflicts and
// deletes from other clients, and a closed Store.
func TestRequestUpdaterConformance(t *testing.T) {
	cli := newClient(t)
	storetest.RunRequestUpdater(t, func(t *testing.T) storetest.Env[storetest.RequestStore] {
		s, ok := newStore(t, cli).CrossCluster().(storetest.RequestStore)
		require.True(t, ok, "etcdstore's cross-cluster store implements baldur.RequestUpdater")
		return storetest.Env[storetest.RequestStore]{Store: s, Advance: time.Sleep}
	})
}

func requestUpdater(t *testing.T, s *etcdstore.Store) (baldur.CrossClusterStore, baldur.RequestUpdater) {
	t.Helper()
	cs := s.CrossCluster()
	u, ok := cs.(baldur.RequestUpdater)
	require.True(t, ok, "the etcd cross-cluster store implements RequestUpdater")
	return cs, u
}

// bump is an update that adds one to "n" with a TTL of an hour.
func bump(cur baldur.Record) (baldur.Record, time.Duration, error) {
	n, _ := cur["n"].(int64)
	cur["n"] = n + 1
	return cur, time.Hour, nil
}

// A write by another process between the read and the transaction makes fn
// run again on what that process wrote.
// TestUpdateRequest_ConflictFromAnotherStore: the suite's conflict comes
// through the same Store; here another Store on the same keys writes between
// the read and the transaction.
func TestUpdateRequest_ConflictFromAnotherStore(t *testing.T) {
	cli := newClient(t)
	s := newStore(t, cli)
	other := newStoreAt(t, cli, s.Keys().Prefix()).CrossCluster()
	cs, u := requestUpdater(t, s)
	ctx := t.Context()
	require.NoError(t, cs.SaveRequest(ctx, "q", baldur.Record{"n": 1}, time.Hour))
	var seen []int64
	got, err := u.UpdateRequest(ctx, "q", func(cur baldur.Record) (baldur.Record, time.Duration, error) {
		seen = append(seen, cur["n"].(int64))
		if len(seen) == 1 {
			require.NoError(t, other.SaveRequest(ctx, "q", baldur.Record{"n": 10}, time.Hour))
		}
		return bump(cur)
	})
	require.NoError(t, err)
	require.Equal(t, []int64{1, 10}, seen, "fn ran again on the record the other writer wrote")
	require.Equal(t, int64(11), got["n"])
	stored, err := cs.GetRequest(ctx, "q")
	require.NoError(t, err)
	require.Equal(t, int64(11), stored["n"])
}

func TestUpdateRequest_TwoStoresLoseNoUpdate(t *testing.T) {
	cli := newClient(t)
	s := newStore(t, cli)
	cs, _ := requestUpdater(t, s)
	ctx := t.Context()
	require.NoError(t, cs.SaveRequest(ctx, "q", baldur.Record{"n": 0}, time.Hour))
	var wg sync.WaitGroup
	for i := range 16 {
		// Half through this Store, half through another one on the same keys.
		st := s
		if i%2 == 1 {
			st = newStoreAt(t, cli, s.Keys().Prefix())
		}
		_, u := requestUpdater(t, st)
		wg.Go(func() {
			_, err := u.UpdateRequest(ctx, "q", bump)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	stored, err := cs.GetRequest(ctx, "q")
	require.NoError(t, err)
	require.Equal(t, int64(16), stored["n"], "no update was lost")
}

// TestUpdateRequest_DeletedMidUpdate: the key is deleted between the read
// and the transaction; the Else branch finds nothing, fn is not called
// again, and nothing is written.
func TestUpdateRequest_DeletedMidUpdate(t *testing.T) {
	cli := newClient(t)
	s := newStore(t, cli)
	cs, u := requestUpdater(t, s)
	ctx := t.Context()
	var calls atomic.Int32
	require.NoError(t, cs.SaveRequest(ctx, "q", baldur.Record{"n": 1}, time.Hour))
	_, err := u.UpdateRequest(ctx, "q", func(cur baldur.Record) (baldur.Record, time.Duration, error) {
		calls.Add(1)
		_, err := cli.Delete(ctx, s.Keys().Request("q"))
		require.NoError(t, err)
		return bump(cur)
	})
	require.ErrorIs(t, err, baldur.ErrNotFound)
	require.Equal(t, int32(1), calls.Load())
	_, err = cs.GetRequest(ctx, "q")
	require.ErrorIs(t, err, baldur.ErrNotFound, "nothing was written")
}

func TestUpdateRequest_AfterClose(t *testing.T) {
	s := newStore(t, nil)
	cs, u := requestUpdater(t, s)
	require.NoError(t, cs.SaveRequest(t.Context(), "q", baldur.Record{"n": 1}, time.Hour))
	require.NoError(t, s.Close())
	_, err := u.UpdateRequest(t.Context(), "q", bump)
	require.ErrorIs(t, err, baldur.ErrClosed)
}
