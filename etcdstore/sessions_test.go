package etcdstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur"
)

func TestSessions(t *testing.T) {
	cli, c := talliedClient(t)
	s := newStore(t, cli)
	p := s.Sessions()
	var _ baldur.SessionInvalidationProvider = p
	ctx := t.Context()

	for _, sess := range []string{"s1", "s2", "s3"} {
		require.NoError(t, p.Register(ctx, "alice", sess, baldur.Record{"ip": "10.0.0.1"}, time.Minute))
	}
	require.NoError(t, p.Register(ctx, "bob", "s1", nil, time.Minute))
	require.NoError(t, p.Register(ctx, "alice2", "s1", nil, time.Minute), "a user whose id extends another's")

	r, err := p.Get(ctx, "alice", "s2")
	require.NoError(t, err)
	require.Equal(t, baldur.Record{"ip": "10.0.0.1"}, r)

	c.take()
	n, err := p.GetActiveSessionCount(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Equal(t, map[string]int{"get": 1}, c.take(), "one count-only read")

	require.NoError(t, p.Delete(ctx, "alice", "s3"))
	require.NoError(t, p.Delete(ctx, "alice", "s3"), "Delete is idempotent")
	c.take()
	got, err := p.InvalidateUserSessions(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, []string{"etcd_sessions(2)"}, got)
	require.Equal(t, map[string]int{"txn": 1}, c.take(), "one transaction")

	n, err = p.GetActiveSessionCount(ctx, "alice")
	require.NoError(t, err)
	require.Zero(t, n)
	_, err = p.Get(ctx, "alice", "s1")
	require.True(t, errors.Is(err, baldur.ErrNotFound), "got %v", err)
	for _, u := range []string{"bob", "alice2"} {
		n, err = p.GetActiveSessionCount(ctx, u)
		require.NoError(t, err)
		require.Equal(t, 1, n, "other users keep their sessions")
	}
	got, err = p.InvalidateUserSessions(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, []string{"etcd_sessions(0)"}, got)
}

func TestSessionsExpire(t *testing.T) {
	s := newStore(t, nil)
	p := s.Sessions()
	ctx := t.Context()
	require.NoError(t, p.Register(ctx, "u", "short", nil, 2*time.Second))
	require.NoError(t, p.Register(ctx, "u", "long", nil, time.Minute))
	time.Sleep(3 * time.Second)
	n, err := p.GetActiveSessionCount(ctx, "u")
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

func TestSessionsRejectBadInput(t *testing.T) {
	s := newStore(t, nil)
	p := s.Sessions()
	ctx := t.Context()
	for _, err := range []error{
		p.Register(ctx, "", "s", nil, time.Minute),
		p.Register(ctx, "u/x", "s", nil, time.Minute),
		p.Register(ctx, "u", "a/b", nil, time.Minute),
		p.Register(ctx, "u", "s", nil, 0),
		p.Register(ctx, "u", "s", baldur.Record{"c": make(chan int)}, time.Minute),
		p.Delete(ctx, "u", ""),
	} {
		require.True(t, errors.Is(err, baldur.ErrInvalidArgument), "got %v", err)
	}
	_, err := p.InvalidateUserSessions(ctx, "a/b")
	require.True(t, errors.Is(err, baldur.ErrInvalidArgument))
	_, err = p.GetActiveSessionCount(ctx, "")
	require.True(t, errors.Is(err, baldur.ErrInvalidArgument))
	n, err := p.GetActiveSessionCount(ctx, "u")
	require.NoError(t, err)
	require.Zero(t, n, "nothing was written")
}
