package crosscluster

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/etcdstore"
	"github.com/baldur-go/baldur/internal/etcdtest"
	"github.com/baldur-go/baldur/memstore"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pendingInEast creates request "c-east" in west over store and returns the
// service of its target, east.
func pendingInEast(t *testing.T, store baldur.CrossClusterStore) *Service {
	t.Helper()
	src, err := NewService(store, "west")
	require.NoError(t, err)
	tgt, err := NewService(store, "east")
	require.NoError(t, err)
	_, err = src.CreateRequests(context.Background(), "c", []string{"east"}, change)
	require.NoError(t, err)
	return tgt
}

// approveConcurrently creates request "c-east" in west and has n goroutines
// approve it in east at once, then checks that exactly one won, the others
// got ErrNotPending, apply ran once and the request ended applied and left
// the pending set.
func approveConcurrently(t *testing.T, store baldur.CrossClusterStore, n int) {
	t.Helper()
	ctx := context.Background()
	tgt := pendingInEast(t, store)

	var applied atomic.Int32
	apply := func(context.Context, baldur.Record) error { applied.Add(1); return nil }
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = tgt.Approve(ctx, "c-east", "op", apply)
		})
	}
	close(start)
	wg.Wait()

	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		assert.ErrorIs(t, err, ErrNotPending)
		assert.Contains(t, err.Error(), `id "c-east" has status `)
	}
	assert.Equal(t, 1, won, "exactly one approval wins")
	assert.Equal(t, int32(1), applied.Load(), "apply runs exactly once")
	got, err := tgt.GetRequest(ctx, "c-east")
	require.NoError(t, err)
	assert.Equal(t, StatusApplied, got["status"])
	ids, err := tgt.PendingIDs(ctx, "east")
	require.NoError(t, err)
	assert.Empty(t, ids)
}

func TestService_ConcurrentApprovalsApplyOnce_Memstore(t *testing.T) {
	approveConcurrently(t, memstore.New().CrossCluster(), 16)
}

func TestService_ConcurrentApprovalsApplyOnce_Etcd(t *testing.T) {
	m := etcdtest.NewMember(t)
	st, err := etcdstore.New(m.Client, etcdstore.WithPrefix(etcdtest.Prefix(t)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	approveConcurrently(t, st.CrossCluster(), 16)
}

// barrierStore holds the first two reads of a request (GetRequest, or the
// first two calls of an UpdateRequest's fn) until both have happened, so
// that two decisions always see the request pending at the same time.
// hide leaves UpdateRequest out: the Service sees a store without the
// extension.
type barrierStore struct {
	baldur.CrossClusterStore
	reads atomic.Int32
	both  sync.WaitGroup
}

func newBarrierStore(inner baldur.CrossClusterStore) *barrierStore {
	b := &barrierStore{CrossClusterStore: inner}
	b.both.Add(2)
	return b
}

func (b *barrierStore) hold() {
	if b.reads.Add(1) <= 2 {
		b.both.Done()
		b.both.Wait()
	}
}

func (b *barrierStore) GetRequest(ctx context.Context, id string) (baldur.Record, error) {
	r, err := b.CrossClusterStore.GetRequest(ctx, id)
	b.hold()
	return r, err
}

// withUpdater is a barrierStore that keeps the extension.
type withUpdater struct{ *barrierStore }

func (w withUpdater) UpdateRequest(ctx context.Context, id string, fn func(baldur.Record) (baldur.Record, time.Duration, error)) (baldur.Record, error) {
	return w.CrossClusterStore.(baldur.RequestUpdater).UpdateRequest(ctx, id, func(cur baldur.Record) (baldur.Record, time.Duration, error) {
		w.hold()
		return fn(cur)
	})
}

// twoDecisions has two goroutines decide on one request while both see it
// pending, one approving and one approving or rejecting; it returns how
// many succeeded and how often apply ran.
func twoDecisions(t *testing.T, store baldur.CrossClusterStore, reject bool) (won int, applied int32) {
	t.Helper()
	ctx := context.Background()
	tgt := pendingInEast(t, store)
	var n atomic.Int32
	apply := func(context.Context, baldur.Record) error { n.Add(1); return nil }
	errs := make([]error, 2)
	var wg sync.WaitGroup
	wg.Go(func() { _, errs[0] = tgt.Approve(ctx, "c-east", "alice", apply) })
	wg.Go(func() {
		if reject {
			_, errs[1] = tgt.Reject(ctx, "c-east", "bob", "no")
		} else {
			_, errs[1] = tgt.Approve(ctx, "c-east", "bob", apply)
		}
	})
	wg.Wait()
	for _, err := range errs {
		if err == nil {
			won++
		} else {
			assert.ErrorIs(t, err, ErrNotPending)
		}
	}
	return won, n.Load()
}

// Without the extension the old race is real: both approvals read
// pending_approval and both succeed, running apply twice.
func TestService_WithoutRequestUpdaterBothApprovalsWin(t *testing.T) {
	store := newBarrierStore(memstore.New().CrossCluster())
	var _ baldur.CrossClusterStore = store
	_, isUpdater := any(store).(baldur.RequestUpdater)
	require.False(t, isUpdater)
	won, applied := twoDecisions(t, store, false)
	assert.Equal(t, 2, won)
	assert.Equal(t, int32(2), applied)
}

// With it, the same interleaving (both decisions see the request pending)
// lets only the first write win.
func TestService_RequestUpdaterFirstDecisionWins(t *testing.T) {
	for _, reject := range []bool{false, true} {
		store := withUpdater{newBarrierStore(memstore.New().CrossCluster())}
		won, applied := twoDecisions(t, store, reject)
		assert.Equal(t, 1, won, "reject=%v", reject)
		assert.LessOrEqual(t, applied, int32(1), "reject=%v", reject)
		if !reject {
			assert.Equal(t, int32(1), applied)
		}
	}
}

// plainStore hides every optional extension of the store it wraps.
type plainStore struct{ baldur.CrossClusterStore }

// The decisions give the same results, errors and messages with and without
// the store's RequestUpdater.
func TestService_DecisionsSameWithAndWithoutRequestUpdater(t *testing.T) {
	run := func(t *testing.T, wrap func(baldur.CrossClusterStore) baldur.CrossClusterStore) []string {
		ctx := context.Background()
		clock := clockwork.NewFakeClockAt(t0)
		inner := memstore.New(memstore.WithClock(clock)).CrossCluster()
		store := wrap(inner)
		src, err := NewService(store, "west", WithClock(clock))
		require.NoError(t, err)
		tgt, err := NewService(store, "east", WithClock(clock))
		require.NoError(t, err)
		var out []string
		note := func(rec baldur.Record, err error) {
			if err != nil {
				out = append(out, err.Error())
				return
			}
			out = append(out, rec["status"].(string))
		}
		for _, base := range []string{"a", "b", "c", "d"} {
			_, err := src.CreateRequests(ctx, base, []string{"east"}, change)
			require.NoError(t, err)
		}
		note(tgt.Approve(ctx, "nope", "bob", nil))
		note(src.Approve(ctx, "a-east", "mallory", nil))
		note(src.Reject(ctx, "a-east", "mallory", "no"))
		note(tgt.Approve(ctx, "a-east", "bob", func(context.Context, baldur.Record) error { return nil }))
		note(tgt.Approve(ctx, "a-east", "bob", nil))
		note(tgt.Reject(ctx, "b-east", "carol", "risky"))
		note(tgt.Reject(ctx, "b-east", "carol", "again"))
		clock.Advance(24 * time.Hour)
		note(src.Approve(ctx, "c-east", "mallory", nil)) // expired wins over not target
		note(tgt.Approve(ctx, "c-east", "bob", nil))
		n, err := tgt.ExpireOld(ctx, "east")
		require.NoError(t, err)
		out = append(out, fmt.Sprint("expired ", n))
		for _, id := range []string{"a-east", "b-east", "c-east", "d-east"} {
			rec, err := inner.GetRequest(ctx, id)
			note(rec, err)
		}
		ids, err := inner.GetPendingIDs(ctx, "east")
		require.NoError(t, err)
		assert.Empty(t, ids)
		return out
	}
	with := run(t, func(s baldur.CrossClusterStore) baldur.CrossClusterStore { return s })
	without := run(t, func(s baldur.CrossClusterStore) baldur.CrossClusterStore { return plainStore{s} })
	assert.Equal(t, []string{
		`crosscluster: propagation request not found: id "nope": memstore: request "nope": baldur: not found`,
		`crosscluster: propagation request targets another cluster: id "a-east" targets "east", this is "west"`,
		`crosscluster: propagation request targets another cluster: id "a-east" targets "east", this is "west"`,
		StatusApplied,
		`crosscluster: propagation request is not pending approval: id "a-east" has status "applied"`,
		StatusRejected,
		`crosscluster: propagation request is not pending approval: id "b-east" has status "rejected"`,
		`crosscluster: propagation request has expired: id "c-east" expired at 2026-11-24T12:00:00Z`,
		`crosscluster: propagation request is not pending approval: id "c-east" has status "expired"`,
		"expired 1",
		StatusApplied, StatusRejected, StatusExpired, StatusExpired,
	}, with)
	assert.Equal(t, with, without)
}
