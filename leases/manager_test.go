package leases_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap/zaptest"

	"github.com/baldur-go/baldur/leases"
)

func newManager(t *testing.T, cli *clientv3.Client, opts ...leases.Option) (*leases.Manager, *countingLease) {
	t.Helper()
	cl := &countingLease{Lease: cli.Lease}
	m, err := leases.NewManager(cl, append([]leases.Option{leases.WithLogger(zaptest.NewLogger(t))}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m, cl
}

func TestOptionsCheckInput(t *testing.T) {
	_, err := leases.NewManager(nil)
	require.Error(t, err)
	cli := newClient(t)
	_, err = leases.NewManager(cli.Lease, leases.WithMaxKeysPerLease(0))
	require.Error(t, err)
	_, err = leases.NewManager(cli.Lease, leases.WithLogger(nil))
	require.Error(t, err)
}

func TestSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int64{
		time.Nanosecond:                 2,
		time.Second:                     2,
		2 * time.Second:                 2,
		2*time.Second + time.Nanosecond: 3,
		2500 * time.Millisecond:         3,
		30 * time.Minute:                1800,
	} {
		require.Equal(t, want, leases.Seconds(d), "Seconds(%v)", d)
	}
}

func TestLeaseRejectsNonPositiveTTL(t *testing.T) {
	m, cl := newManager(t, newClient(t))
	_, err := m.Lease(t.Context(), 0)
	require.Error(t, err)
	require.Empty(t, cl.granted(), "nothing is granted for a bad TTL")
}

// Saves arriving together with the same TTL share one lease.
func TestLeaseSharedByConcurrentCalls(t *testing.T) {
	m, cl := newManager(t, newClient(t))
	const n = 200
	ids := make([]clientv3.LeaseID, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id, err := m.Lease(t.Context(), 10*time.Second)
			if err == nil {
				ids[i] = id
			}
		})
	}
	wg.Wait()
	distinct := map[clientv3.LeaseID]bool{}
	for _, id := range ids {
		require.NotZero(t, id)
		distinct[id] = true
	}
	require.Less(t, len(distinct), n/4, "200 concurrent calls must share leases")
	// At most one more: a lease granted ahead that nobody used yet.
	require.LessOrEqual(t, len(cl.granted()), len(distinct)+1, "every lease handed out was granted once")
}

// A flow of saves with one whole-second TTL costs a few grants a second,
// not one per save, thanks to the leases granted ahead.
func TestLeaseReusedAcrossAFlow(t *testing.T) {
	m, cl := newManager(t, newClient(t))
	const calls = 150 // over about 3 s
	distinct := map[clientv3.LeaseID]bool{}
	for range calls {
		id, err := m.Lease(t.Context(), 5*time.Second)
		require.NoError(t, err)
		distinct[id] = true
		time.Sleep(20 * time.Millisecond)
	}
	grants := cl.granted()
	t.Logf("%d calls, %d distinct leases, %d grants", calls, len(distinct), len(grants))
	require.Less(t, len(grants), calls/2, "leases are shared within a flow")
	for _, ttl := range grants {
		require.Contains(t, []int64{5, 6}, ttl, "a lease is granted for ttl (now) or ttl+1 (ahead)")
	}
}

// Whatever lease a call gets, it does not expire before the call's start
// plus the TTL: the key written with it is still there just before.
func TestLeaseNeverShorterThanAsked(t *testing.T) {
	cli := newClient(t)
	m, _ := newManager(t, cli)
	ttl := 2 * time.Second
	type written struct {
		key   string
		start time.Time
	}
	var ws []written
	for i := range 20 {
		start := time.Now()
		id, err := m.Lease(t.Context(), ttl)
		require.NoError(t, err)
		key := testKey(t, string(rune('a'+i)))
		_, err = cli.Put(t.Context(), key, "x", clientv3.WithLease(id))
		require.NoError(t, err)
		ws = append(ws, written{key, start})
		time.Sleep(50 * time.Millisecond)
	}
	for _, w := range ws {
		// Read each key 50 ms before its deadline at the latest.
		time.Sleep(time.Until(w.start.Add(ttl - 50*time.Millisecond)))
		if time.Now().After(w.start.Add(ttl - 20*time.Millisecond)) {
			continue // this machine was too slow to check this one in time
		}
		resp, err := cli.Get(t.Context(), w.key)
		require.NoError(t, err)
		require.Len(t, resp.Kvs, 1, "key %s expired before its TTL", w.key)
	}
}

func TestLeaseCapOnKeysPerLease(t *testing.T) {
	m, _ := newManager(t, newClient(t), leases.WithMaxKeysPerLease(3))
	ids := map[clientv3.LeaseID]int{}
	for range 9 {
		id, err := m.Lease(t.Context(), time.Minute)
		require.NoError(t, err)
		ids[id]++
	}
	for id, n := range ids {
		require.LessOrEqual(t, n, 3, "lease %x serves at most 3 keys", id)
	}
	require.GreaterOrEqual(t, len(ids), 3)
	require.Positive(t, m.SharedLeases())
}

func TestWithLeaseRetriesOnceWhenTheLeaseVanished(t *testing.T) {
	cli := newClient(t)
	m, _ := newManager(t, cli)
	// 59.5 s is granted as 60 s, which serves calls for the next half second.
	const ttl = 59500 * time.Millisecond
	id, err := m.Lease(t.Context(), ttl)
	require.NoError(t, err)
	_, err = cli.Revoke(t.Context(), id) // as an operator might
	require.NoError(t, err)

	key := testKey(t, "k")
	var tried []clientv3.LeaseID
	err = m.WithLease(t.Context(), ttl, func(l clientv3.LeaseID) error {
		tried = append(tried, l)
		_, err := cli.Put(t.Context(), key, "v", clientv3.WithLease(l))
		return err
	})
	require.NoError(t, err)
	require.Len(t, tried, 2)
	require.Equal(t, id, tried[0], "the cached lease is tried first")
	require.NotEqual(t, id, tried[1], "the retry uses a fresh lease")

	// Other errors are not retried.
	boom := errors.New("boom")
	calls := 0
	err = m.WithLease(t.Context(), time.Minute, func(clientv3.LeaseID) error { calls++; return boom })
	require.ErrorIs(t, err, boom)
	require.Equal(t, 1, calls)
}

func TestKeepAliveHoldsUntilClose(t *testing.T) {
	cli := newClient(t)
	m, err := leases.NewManager(cli.Lease, leases.WithLogger(zaptest.NewLogger(t)))
	require.NoError(t, err)
	held, err := m.KeepAlive(t.Context(), 2*time.Second)
	require.NoError(t, err)
	key := testKey(t, "k")
	_, err = cli.Put(t.Context(), key, "v", clientv3.WithLease(held.ID()))
	require.NoError(t, err)

	time.Sleep(3500 * time.Millisecond) // past the 2 s TTL: only the keep-alive keeps it
	resp, err := cli.Get(t.Context(), key)
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1, "a kept-alive lease outlives its TTL")

	require.NoError(t, m.Close())
	<-held.Done()
	resp, err = cli.Get(t.Context(), key)
	require.NoError(t, err)
	require.Empty(t, resp.Kvs, "Close revokes the leases it kept alive")
	_, err = m.Lease(t.Context(), time.Minute)
	require.ErrorIs(t, err, leases.ErrClosed)
	_, err = m.KeepAlive(t.Context(), time.Minute)
	require.ErrorIs(t, err, leases.ErrClosed)
	require.NoError(t, m.Close(), "Close is idempotent")
}

func TestCloseLeavesRecordLeases(t *testing.T) {
	cli := newClient(t)
	m, err := leases.NewManager(cli.Lease)
	require.NoError(t, err)
	id, err := m.Lease(t.Context(), time.Minute)
	require.NoError(t, err)
	require.NoError(t, m.Close())
	resp, err := cli.TimeToLive(t.Context(), id)
	require.NoError(t, err)
	require.Positive(t, resp.TTL, "record leases outlive the Manager")
}

func TestHeldRelease(t *testing.T) {
	cli := newClient(t)
	m, _ := newManager(t, cli)
	held, err := m.KeepAlive(t.Context(), 5*time.Second)
	require.NoError(t, err)
	require.NoError(t, held.Release())
	select {
	case <-held.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after Release")
	}
	resp, err := cli.TimeToLive(context.Background(), held.ID())
	require.NoError(t, err)
	require.Equal(t, int64(-1), resp.TTL, "the lease is revoked")
	require.NoError(t, held.Release(), "Release is idempotent")
}
