package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur"
)

// RequestStore is a CrossClusterStore with the optional RequestUpdater
// extension.
type RequestStore interface {
	baldur.CrossClusterStore
	baldur.RequestUpdater
}

const prefixRequestUpdater = "RequestUpdater/"

// RunRequestUpdater runs every case of the optional baldur.RequestUpdater
// extension as a parallel subtest of t. A backend that implements the
// extension runs it beside RunCrossCluster; these cases are not part of
// CaseNames (see RequestUpdaterCaseNames), since the extension is optional.
func RunRequestUpdater(t *testing.T, f Factory[RequestStore]) {
	runCases(t, f, requestUpdaterCases())
}

// RequestUpdaterCaseNames names the cases RunRequestUpdater runs, prefixed
// "RequestUpdater/".
func RequestUpdaterCaseNames() []string {
	return appendNames(nil, prefixRequestUpdater, requestUpdaterCases())
}

// bump adds one to "n" and asks for a long TTL.
func bump(cur baldur.Record) (baldur.Record, time.Duration, error) {
	n, _ := cur["n"].(int64)
	cur["n"] = n + 1
	return cur, ttlLong, nil
}

func requestUpdaterCases() []testCase[RequestStore] {
	ctx := context.Background()
	return []testCase[RequestStore]{
		{"Update_Writes", func(t *testing.T, e Env[RequestStore]) {
			s := e.Store
			require.NoError(t, s.SaveRequest(ctx, "q", baldur.Record{"n": 1, "keep": "me"}, ttlLong))
			got, err := s.UpdateRequest(ctx, "q", bump)
			require.NoError(t, err)
			require.Equal(t, baldur.Record{"n": int64(2), "keep": "me"}, got)
			stored, err := s.GetRequest(ctx, "q")
			require.NoError(t, err)
			require.Equal(t, got, stored)
		}},
		{"Update_RetriesOnConflict", func(t *testing.T, e Env[RequestStore]) {
			s := e.Store
			require.NoError(t, s.SaveRequest(ctx, "q", baldur.Record{"n": 1}, ttlLong))
			var seen []int64
			got, err := s.UpdateRequest(ctx, "q", func(cur baldur.Record) (baldur.Record, time.Duration, error) {
				seen = append(seen, cur["n"].(int64))
				if len(seen) == 1 {
					// Another writer gets in between the read and the write
					// (from another goroutine: fn must not call the store).
					done := make(chan error)
					go func() { done <- s.SaveRequest(ctx, "q", baldur.Record{"n": 10}, ttlLong) }()
					require.NoError(t, <-done)
				}
				return bump(cur)
			})
			require.NoError(t, err)
			require.Equal(t, []int64{1, 10}, seen, "fn ran again on the record the other writer wrote")
			require.Equal(t, int64(11), got["n"])
			stored, err := s.GetRequest(ctx, "q")
			require.NoError(t, err)
			require.Equal(t, int64(11), stored["n"])
		}},
		{"Update_ConcurrentUpdatesAllCount", func(t *testing.T, e Env[RequestStore]) {
			s := e.Store
			require.NoError(t, s.SaveRequest(ctx, "q", baldur.Record{"n": 0}, ttlLong))
			var wg sync.WaitGroup
			for range 16 {
				wg.Go(func() {
					_, err := s.UpdateRequest(ctx, "q", bump)
					assert.NoError(t, err)
				})
			}
			wg.Wait()
			stored, err := s.GetRequest(ctx, "q")
			require.NoError(t, err)
			require.Equal(t, int64(16), stored["n"], "no update was lost")
		}},
		{"Update_AbsentOrExpired", func(t *testing.T, e Env[RequestStore]) {
			s := e.Store
			var calls atomic.Int32
			fn := func(cur baldur.Record) (baldur.Record, time.Duration, error) {
				calls.Add(1)
				return bump(cur)
			}
			_, err := s.UpdateRequest(ctx, "absent", fn)
			require.ErrorIs(t, err, baldur.ErrNotFound)

			require.NoError(t, s.SaveRequest(ctx, "q", baldur.Record{"n": 1}, ttlShort))
			e.Advance(past)
			_, err = s.UpdateRequest(ctx, "q", fn)
			require.ErrorIs(t, err, baldur.ErrNotFound)
			require.Zero(t, calls.Load(), "fn is not called for an absent or expired request")
			_, err = s.GetRequest(ctx, "q")
			require.ErrorIs(t, err, baldur.ErrNotFound, "nothing was written")
		}},
		{"Update_FnErrorWritesNothing", func(t *testing.T, e Env[RequestStore]) {
			s := e.Store
			require.NoError(t, s.SaveRequest(ctx, "q", baldur.Record{"n": 1}, ttlShort))
			boom := errors.New("boom")
			_, err := s.UpdateRequest(ctx, "q", func(cur baldur.Record) (baldur.Record, time.Duration, error) {
				cur["n"] = 99
				return cur, ttlLong, boom
			})
			require.Same(t, boom, err, "fn's error comes back unwrapped")
			stored, err := s.GetRequest(ctx, "q")
			require.NoError(t, err)
			require.Equal(t, int64(1), stored["n"])
			e.Advance(past)
			_, err = s.GetRequest(ctx, "q")
			require.ErrorIs(t, err, baldur.ErrNotFound, "the TTL was not touched either")
		}},
		{"Update_RefusesBadInput", func(t *testing.T, e Env[RequestStore]) {
			s := e.Store
			require.NoError(t, s.SaveRequest(ctx, "q", baldur.Record{"n": 1}, ttlLong))
			var calls atomic.Int32
			counted := func(cur baldur.Record) (baldur.Record, time.Duration, error) {
				calls.Add(1)
				return bump(cur)
			}
			for _, b := range badIDs() {
				_, err := s.UpdateRequest(ctx, b.id, counted)
				require.ErrorIs(t, err, baldur.ErrInvalidArgument, "id: %s", b.what)
			}
			require.Zero(t, calls.Load(), "fn is not called for an invalid id")
			_, err := s.UpdateRequest(ctx, "q", nil)
			require.ErrorIs(t, err, baldur.ErrInvalidArgument, "nil fn")
			for _, ttl := range []time.Duration{0, -time.Second} {
				_, err = s.UpdateRequest(ctx, "q", func(cur baldur.Record) (baldur.Record, time.Duration, error) {
					cur["n"] = 99
					return cur, ttl, nil
				})
				require.ErrorIs(t, err, baldur.ErrInvalidArgument, "ttl %v", ttl)
			}
			for _, b := range badRecords() {
				_, err = s.UpdateRequest(ctx, "q", func(baldur.Record) (baldur.Record, time.Duration, error) {
					return b.rec, ttlLong, nil
				})
				require.ErrorIs(t, err, baldur.ErrInvalidArgument, "record: %s", b.what)
			}
			stored, err := s.GetRequest(ctx, "q")
			require.NoError(t, err)
			require.Equal(t, int64(1), stored["n"], "nothing was written")
		}},
	}
}
