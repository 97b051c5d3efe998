package etcdstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/baldur-go/baldur"
)

func TestWrapErr(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"request too large", rpctypes.ErrRequestTooLarge, baldur.ErrTooLarge},
		{"too many ops", rpctypes.ErrTooManyOps, baldur.ErrTooLarge},
		{"grpc message size", status.Error(codes.ResourceExhausted, "trying to send message larger than max"), baldur.ErrTooLarge},
		{"no space", rpctypes.ErrNoSpace, baldur.ErrQuotaExceeded},
		{"wrapped no space", fmt.Errorf("ctx: %w", rpctypes.ErrNoSpace), baldur.ErrQuotaExceeded},
	} {
		got := wrapErr(tc.err, "save", "rollout", "r1", 1234)
		require.ErrorIs(t, got, tc.want, tc.name)
		require.ErrorIs(t, got, tc.err, "%s: the etcd error stays in the chain", tc.name)
		require.Contains(t, got.Error(), `"r1"`, tc.name)
		require.Contains(t, got.Error(), "1234 bytes", tc.name)
	}
	for _, err := range []error{
		context.DeadlineExceeded,
		rpctypes.ErrLeaderChanged,
		rpctypes.ErrTimeout,
		rpctypes.ErrTooManyRequests, // ResourceExhausted on the wire, but not a size
		status.Error(codes.Unavailable, "connection refused"),
	} {
		got := wrapErr(err, "save", "rollout", "r1", 10)
		require.ErrorIs(t, got, err)
		require.False(t, errors.Is(got, baldur.ErrTooLarge) || errors.Is(got, baldur.ErrQuotaExceeded), "%v is neither", err)
	}
	require.NoError(t, wrapErr(nil, "save", "rollout", "r1", 0))
}

func TestRevCacheIsBoundedAndMonotonic(t *testing.T) {
	c := newRevCache(3)
	c.put("a", revEntry{modRev: 5, version: 1, versionOK: true})
	c.put("a", revEntry{modRev: 4, version: 0, versionOK: true})
	e, ok := c.get("a")
	require.True(t, ok)
	require.Equal(t, int64(5), e.modRev, "an older revision never replaces a newer one")
	for i := range 10 {
		c.put(fmt.Sprint(i), revEntry{modRev: int64(i + 10)})
	}
	require.Equal(t, 3, c.len())
	c.put("z", revEntry{modRev: 9})
	c.forget("z", 8)
	_, ok = c.get("z")
	require.True(t, ok, "a read older than the entry does not drop it")
	c.forget("z", 9)
	_, ok = c.get("z")
	require.False(t, ok)
}

func TestRevEntryMatches(t *testing.T) {
	for _, tc := range []struct {
		rec      baldur.Record
		expected int64
		want     bool
	}{
		{baldur.Record{}, 0, true},
		{baldur.Record{"version": nil}, 0, true},
		{baldur.Record{"version": int64(3)}, 3, true},
		{baldur.Record{"version": float64(3)}, 3, true},
		{baldur.Record{"version": 3.5}, 3, false},
		{baldur.Record{"version": "3"}, 3, false},
		{baldur.Record{"version": int64(2)}, 3, false},
		{baldur.Record{}, 1, false},
	} {
		require.Equal(t, tc.want, entryOf(tc.rec, 1).matches(tc.expected), "%v vs %d", tc.rec, tc.expected)
		require.Equal(t, baldur.VersionMatches(tc.rec, tc.expected), entryOf(tc.rec, 1).matches(tc.expected))
	}
}

func TestHistoryCacheBoundedByBytes(t *testing.T) {
	c := newHistoryCache(100, 1000)
	raw := []json.RawMessage{json.RawMessage(`{}`)}
	for i := range 10 {
		c.put(fmt.Sprint(i), historyEntry{modRev: 1, entries: raw, bytes: 300})
	}
	total := 0
	for _, e := range c.m {
		total += e.bytes
	}
	require.LessOrEqual(t, total, 1000)
	require.Equal(t, total, c.bytes)
	c.put("huge", historyEntry{modRev: 1, bytes: 5000})
	_, ok := c.get("huge")
	require.False(t, ok, "an entry over the budget is not cached")
}

func TestJoinArray(t *testing.T) {
	got := joinArray([]json.RawMessage{json.RawMessage(`{"a":1}`), json.RawMessage(`{"b":2}`)})
	require.JSONEq(t, `[{"a":1},{"b":2}]`, string(got))
	require.Equal(t, "[]", string(joinArray(nil)))
}

// Every id a glob matches starts with the glob's literal prefix, so the
// range read may start there.
func FuzzLiteralPrefix(f *testing.F) {
	for _, s := range [][2]string{{"abc-*", "abc-1"}, {"a?c", "abc"}, {"[ab]c", "bc"}, {`a\*b`, "a*b"}, {"*", "x"}, {"é*", "éa"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, id string) {
		if baldur.ValidatePattern(pattern) != nil {
			return
		}
		p := literalPrefix(pattern)
		require.True(t, strings.HasPrefix(pattern, p))
		if baldur.MatchID(pattern, id) && !strings.HasPrefix(id, p) {
			t.Fatalf("%q matches %q but does not start with %q", pattern, id, p)
		}
	})
}

// The revision cache's version check agrees with baldur.VersionMatches for
// any stored record.
func FuzzEntryOfMatchesVersionMatches(f *testing.F) {
	for _, s := range []string{`{}`, `{"version":3}`, `{"version":3.0}`, `{"version":"3"}`, `{"version":null}`, `{"version":1e400}`, `{"version":-0}`} {
		f.Add([]byte(s), int64(3))
	}
	f.Fuzz(func(t *testing.T, stored []byte, expected int64) {
		r, err := baldur.DecodeRecord(stored)
		if err != nil {
			return
		}
		if got, want := entryOf(r, 1).matches(expected), baldur.VersionMatches(r, expected); got != want {
			t.Fatalf("%s vs %d: cache says %v, VersionMatches %v", stored, expected, got, want)
		}
	})
}
