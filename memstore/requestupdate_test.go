package memstore_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/memstore"
)

func updater(t *testing.T, s *memstore.Store) (baldur.CrossClusterStore, baldur.RequestUpdater) {
	t.Helper()
	cs := s.CrossCluster()
	u, ok := cs.(baldur.RequestUpdater)
	require.True(t, ok, "the memstore cross-cluster store implements RequestUpdater")
	return cs, u
}

// bump is an update that adds one to "n" with a TTL of an hour.
func bump(cur baldur.Record) (baldur.Record, time.Duration, error) {
	n, _ := cur["n"].(int64)
	cur["n"] = n + 1
	return cur, time.Hour, nil
}

func TestUpdateRequest_Writes(t *testing.T) {
	cs, u := updater(t, memstore.New())
	ctx := t.Context()
	require.NoError(t, cs.SaveRequest(ctx, "q", baldur.Record{"n": 1, "keep": "me"}, time.Hour))
	got, err := u.UpdateRequest(ctx, "q", bump)
	require.NoError(t, err)
	require.Equal(t, baldur.Record{"n": int64(2), "keep": "me"}, got)
	stored, err := cs.GetRequest(ctx, "q")
	require.NoError(t, err)
	require.Equal(t, got, stored)
}

func TestUpdateRequest_RetriesOnConflict(t *testing.T) {
	cs, u := updater(t, memstore.New())
	ctx := t.Context()
	require.NoError(t, cs.SaveRequest(ctx, "q", baldur.Record{"n": 1}, time.Hour))
	var seen []int64
	got, err := u.UpdateRequest(ctx, "q", func(cur baldur.Record) (baldur.Record, time.Duration, error) {
		seen = append(seen, cur["n"].(int64))
		if len(seen) == 1 {
			// Another writer gets in between the read and the write.
			done := make(chan error)
			go func() { done <- cs.SaveRequest(ctx, "q", baldur.Record{"n": 10}, time.Hour) }()
			require.NoError(t, <-done)
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

func TestUpdateRequest_ConcurrentUpdatesAllCount(t *testing.T) {
	cs, u := updater(t, memstore.New())
	ctx := t.Context()
	require.NoError(t, cs.SaveRequest(ctx, "q", baldur.Record{"n": 0}, time.Hour))
	var wg sync.WaitGroup
	for range 16 {
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

func TestUpdateRequest_AbsentOrExpired(t *testing.T) {
	clock := clockwork.NewFakeClock()
	cs, u := updater(t, memstore.New(memstore.WithClock(clock)))
	ctx := t.Context()
	var calls atomic.Int32
	fn := func(cur baldur.Record) (baldur.Record, time.Duration, error) {
		calls.Add(1)
		return bump(cur)
	}
	_, err := u.UpdateRequest(ctx, "absent", fn)
	require.ErrorIs(t, err, baldur.ErrNotFound)

	require.NoError(t, cs.SaveRequest(ctx, "q", baldur.Record{"n": 1}, time.Minute))
	clock.Advance(time.Minute)
	_, err = u.UpdateRequest(ctx, "q", fn)
	require.ErrorIs(t, err, baldur.ErrNotFound)
	require.Zero(t, calls.Load(), "fn is not called for an absent request")
	_, err = cs.GetRequest(ctx, "q")
	require.ErrorIs(t, err, baldur.ErrNotFound, "nothing was written")
}

func TestUpdateRequest_FnErrorWritesNothing(t *testing.T) {
	clock := clockwork.NewFakeClock()
	cs, u := updater(t, memstore.New(memstore.WithClock(clock)))
	ctx := t.Context()
	require.NoError(t, cs.SaveRequest(ctx, "q", baldur.Record{"n": 1}, time.Minute))
	boom := errors.New("boom")
	_, err := u.UpdateRequest(ctx, "q", func(cur baldur.Record) (baldur.Record, time.Duration, error) {
		cur["n"] = 99
		return cur, time.Hour, boom
	})
	require.Same(t, boom, err, "fn's error comes back unwrapped")
	stored, err := cs.GetRequest(ctx, "q")
	require.NoError(t, err)
	require.Equal(t, int64(1), stored["n"])
	clock.Advance(time.Minute)
	_, err = cs.GetRequest(ctx, "q")
	require.ErrorIs(t, err, baldur.ErrNotFound, "the TTL was not touched either")
}

func TestUpdateRequest_RefusesBadInput(t *testing.T) {
	cs, u := updater(t, memstore.New())
	ctx := t.Context()
	require.NoError(t, cs.SaveRequest(ctx, "q", baldur.Record{"n": 1}, time.Hour))
	var calls atomic.Int32
	counted := func(cur baldur.Record) (baldur.Record, time.Duration, error) {
		calls.Add(1)
		return bump(cur)
	}
	_, err := u.UpdateRequest(ctx, "", counted)
	require.ErrorIs(t, err, baldur.ErrInvalidArgument, "empty id")
	_, err = u.UpdateRequest(ctx, "a/b", counted)
	require.ErrorIs(t, err, baldur.ErrInvalidArgument, "id with a slash")
	require.Zero(t, calls.Load())
	_, err = u.UpdateRequest(ctx, "q", nil)
	require.ErrorIs(t, err, baldur.ErrInvalidArgument, "nil fn")

	for _, ttl := range []time.Duration{0, -time.Second} {
		_, err = u.UpdateRequest(ctx, "q", func(cur baldur.Record) (baldur.Record, time.Duration, error) {
			cur["n"] = 99
			return cur, ttl, nil
		})
		require.ErrorIs(t, err, baldur.ErrInvalidArgument, "ttl %v", ttl)
	}
	_, err = u.UpdateRequest(ctx, "q", func(baldur.Record) (baldur.Record, time.Duration, error) {
		return nil, time.Hour, nil
	})
	require.ErrorIs(t, err, baldur.ErrInvalidArgument, "nil record")
	stored, err := cs.GetRequest(ctx, "q")
	require.NoError(t, err)
	require.Equal(t, int64(1), stored["n"], "nothing was written")
}
