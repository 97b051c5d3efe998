package memstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur"
)

// snapshot returns the entry counts and checks that the deadline heap and
// the maps agree: every heap slot knows its index, every TTL'd entry and lock
// has exactly one live deadline, and nothing else is in the heap.
func snapshot(t *testing.T, s *Store) counts {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, d := range s.deadlines {
		require.Equal(t, i, d.index, "heap slot %d", i)
		if i > 0 {
			require.False(t, d.at.Before(s.deadlines[(i-1)/2].at), "heap order at %d", i)
		}
	}
	live := 0
	for _, m := range []map[string]*ttlEntry{s.rollouts, s.experiments, s.requests} {
		for k, e := range m {
			require.Equal(t, k, e.exp.key)
			require.Same(t, e.exp, s.deadlines[e.exp.index], "deadline of %q is in the heap", k)
			live++
		}
	}
	for k, l := range s.locks {
		require.Equal(t, k, l.exp.key)
		require.Same(t, l.exp, s.deadlines[l.exp.index], "deadline of lock %q is in the heap", k)
		live++
	}
	require.Len(t, s.deadlines, live, "the heap holds one deadline per entry, no stale ones")
	return s.countsLocked()
}

func TestPurgeFreesExpiredEntries(t *testing.T) {
	ctx := t.Context()
	clock := clockwork.NewFakeClock()
	s := New(WithClock(clock))
	const n = 500
	for i := range n {
		id := fmt.Sprintf("id-%03d", i)
		ttl := 2 * time.Second
		if i%10 == 0 {
			ttl = time.Hour // one in ten outlives the purge
		}
		_, err := s.Canary().SaveRollout(ctx, id, baldur.Record{"i": i}, ttl, nil)
		require.NoError(t, err)
		require.NoError(t, s.Chaos().Save(ctx, id, baldur.Record{"i": i}, ttl))
		require.NoError(t, s.CrossCluster().SaveRequest(ctx, id, baldur.Record{"i": i}, ttl))
		ok, err := s.Canary().AcquireConfigLock(ctx, id, "owner", ttl)
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.Equal(t, counts{rollouts: n, experiments: n, requests: n, locks: n, deadlines: 4 * n}, snapshot(t, s))

	clock.Advance(3 * time.Second)
	require.Equal(t, counts{rollouts: n, experiments: n, requests: n, locks: n, deadlines: 4 * n}, snapshot(t, s),
		"nothing is purged until the store is used")

	// Any call purges every family, a read of an unrelated one included.
	_, err := s.CrossCluster().ListPolicies(ctx)
	require.NoError(t, err)
	require.Equal(t, counts{rollouts: n / 10, experiments: n / 10, requests: n / 10, locks: n / 10, deadlines: 4 * n / 10}, snapshot(t, s))

	clock.Advance(time.Hour)
	_, err = s.Canary().GetActiveIDs(ctx)
	require.NoError(t, err)
	require.Equal(t, counts{}, snapshot(t, s))
}

func TestRewritesLeaveNoStaleDeadlines(t *testing.T) {
	ctx := t.Context()
	clock := clockwork.NewFakeClock()
	s := New(WithClock(clock))
	for i := range 1000 {
		ttl := time.Duration(1+i%7) * time.Hour
		_, err := s.Canary().SaveRollout(ctx, "r", baldur.Record{"version": i}, ttl, nil)
		require.NoError(t, err)
		ok, err := s.Canary().SaveRollout(ctx, "r", baldur.Record{"version": i + 1}, ttl, new(int64(i)))
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, s.Chaos().Save(ctx, "e", baldur.Record{"i": i}, ttl))
		require.NoError(t, s.CrossCluster().SaveRequest(ctx, "q", baldur.Record{"i": i}, ttl))
		ok, err = s.Canary().AcquireConfigLock(ctx, "cfg", "r", ttl)
		require.NoError(t, err)
		require.Equal(t, i == 0, ok)
		ok, err = s.Canary().ExtendConfigLock(ctx, "cfg", "r", ttl)
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.Equal(t, counts{rollouts: 1, experiments: 1, requests: 1, locks: 1, deadlines: 4}, snapshot(t, s))
}

func TestDeletesRemoveDeadlines(t *testing.T) {
	ctx := t.Context()
	s := New(WithClock(clockwork.NewFakeClock()))
	for i := range 10 {
		id := fmt.Sprintf("x%d", i)
		require.NoError(t, s.Chaos().Save(ctx, id, baldur.Record{}, time.Hour))
		_, err := s.Canary().AcquireConfigLock(ctx, id, "r", time.Hour)
		require.NoError(t, err)
	}
	for i := range 10 {
		id := fmt.Sprintf("x%d", i)
		require.NoError(t, s.Chaos().Delete(ctx, id))
		var err error
		if i%2 == 0 {
			_, err = s.Canary().ReleaseConfigLock(ctx, id, "r")
		} else {
			_, err = s.Canary().ForceReleaseConfigLock(ctx, id)
		}
		require.NoError(t, err)
		snapshot(t, s)
	}
	require.Equal(t, counts{}, snapshot(t, s))
}

func TestEmptyPendingSetsAreDropped(t *testing.T) {
	ctx := t.Context()
	s := New()
	cc := s.CrossCluster()
	for i := range 100 {
		require.NoError(t, cc.AddPending(ctx, fmt.Sprintf("c%d", i), "q"))
	}
	for i := range 100 {
		require.NoError(t, cc.RemovePending(ctx, fmt.Sprintf("c%d", i), "q"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Empty(t, s.pending)
}

func TestExpiryIsAtTheDeadline(t *testing.T) {
	ctx := t.Context()
	clock := clockwork.NewFakeClock()
	s := New(WithClock(clock))
	require.NoError(t, s.Chaos().Save(ctx, "e", baldur.Record{}, 2*time.Second))
	clock.Advance(2*time.Second - time.Nanosecond)
	_, err := s.Chaos().Get(ctx, "e")
	require.NoError(t, err, "visible just before the deadline")
	clock.Advance(time.Nanosecond)
	_, err = s.Chaos().Get(ctx, "e")
	require.ErrorIs(t, err, baldur.ErrNotFound, "gone at the deadline")
}

func TestWithClockNilPanics(t *testing.T) {
	require.PanicsWithValue(t, "memstore: WithClock(nil)", func() { WithClock(nil) })
	require.PanicsWithValue(t, "memstore: nil Option", func() { New(nil) })
}

func TestZeroLockTimeoutIsThirtyMinutes(t *testing.T) {
	ctx := t.Context()
	clock := clockwork.NewFakeClock()
	c := New(WithClock(clock)).Canary()
	ok, err := c.AcquireConfigLock(ctx, "acquired", "r1", 0)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = c.AcquireConfigLock(ctx, "extended", "r1", time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = c.ExtendConfigLock(ctx, "extended", "r1", 0)
	require.NoError(t, err)
	require.True(t, ok)

	clock.Advance(baldur.DefaultLockTimeout - time.Nanosecond)
	for _, ct := range []string{"acquired", "extended"} {
		locked, err := c.IsConfigLocked(ctx, ct)
		require.NoError(t, err)
		require.True(t, locked, "%s: held just before 30 minutes", ct)
	}
	clock.Advance(time.Nanosecond)
	for _, ct := range []string{"acquired", "extended"} {
		locked, err := c.IsConfigLocked(ctx, ct)
		require.NoError(t, err)
		require.False(t, locked, "%s: free at 30 minutes", ct)
	}
}
