package leases_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/baldur-go/baldur/leases"
)

func TestNewLockChecksInput(t *testing.T) {
	cli := newClient(t)
	_, err := leases.NewLock(nil, "/k", "o")
	require.Error(t, err)
	_, err = leases.NewLock(cli, "", "o")
	require.Error(t, err)
	_, err = leases.NewLock(cli, "/k", "")
	require.Error(t, err)
}

func TestLockIsExclusiveAndFenced(t *testing.T) {
	cli := newClient(t)
	m, _ := newManager(t, cli)
	key, data := testKey(t, "lock"), testKey(t, "data")

	h1, err := m.KeepAlive(t.Context(), 5*time.Second)
	require.NoError(t, err)
	h2, err := m.KeepAlive(t.Context(), 5*time.Second)
	require.NoError(t, err)
	l1, err := leases.NewLock(cli, key, "one")
	require.NoError(t, err)
	l2, err := leases.NewLock(cli, key, "two")
	require.NoError(t, err)

	f1, ok, holder, err := l1.TryAcquire(t.Context(), h1.ID())
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "one", holder)
	get, err := cli.Get(t.Context(), key)
	require.NoError(t, err)
	require.Equal(t, get.Kvs[0].CreateRevision, f1.Token, "the token is the key's create revision")

	_, ok, holder, err = l2.TryAcquire(t.Context(), h2.ID())
	require.NoError(t, err)
	require.False(t, ok, "the lock is exclusive")
	require.Equal(t, "one", holder)
	_, ok, _, err = l1.TryAcquire(t.Context(), h1.ID())
	require.NoError(t, err)
	require.False(t, ok, "not re-entrant")

	_, err = f1.Do(t.Context(), cli, clientv3.OpPut(data, "from one"))
	require.NoError(t, err, "the holder writes through its fence")

	// The holder loses its lease (expired during a pause, revoked by an
	// operator): its lock key is gone and the guard refuses its writes.
	require.NoError(t, h1.Release())
	_, err = f1.Do(t.Context(), cli, clientv3.OpPut(data, "late write"))
	require.ErrorIs(t, err, leases.ErrNotHeld)

	f2, ok, _, err := l2.TryAcquire(t.Context(), h2.ID())
	require.NoError(t, err)
	require.True(t, ok)
	require.Greater(t, f2.Token, f1.Token, "tokens increase")
	_, err = f1.Do(t.Context(), cli, clientv3.OpPut(data, "late write"))
	require.ErrorIs(t, err, leases.ErrNotHeld, "a new holder does not revive the old fence")
	require.ErrorIs(t, f1.Release(t.Context(), cli), leases.ErrNotHeld, "the old fence cannot release the new lock")

	get, err = cli.Get(t.Context(), data)
	require.NoError(t, err)
	require.Equal(t, "from one", string(get.Kvs[0].Value), "no late write got through")

	require.NoError(t, f2.Release(t.Context(), cli))
	get, err = cli.Get(t.Context(), key)
	require.NoError(t, err)
	require.Empty(t, get.Kvs)
}

// A lease that simply runs out has the same effect as a revoke.
func TestFenceRefusesAfterLeaseExpiry(t *testing.T) {
	cli := newClient(t)
	key, data := testKey(t, "lock"), testKey(t, "data")
	g, err := cli.Grant(t.Context(), 2)
	require.NoError(t, err)
	l, err := leases.NewLock(cli, key, "sleepy")
	require.NoError(t, err)
	f, ok, _, err := l.TryAcquire(t.Context(), g.ID)
	require.NoError(t, err)
	require.True(t, ok)
	time.Sleep(3500 * time.Millisecond) // the holder pauses past its lease
	_, err = f.Do(t.Context(), cli, clientv3.OpPut(data, "late"))
	require.ErrorIs(t, err, leases.ErrNotHeld)
	get, err := cli.Get(t.Context(), data)
	require.NoError(t, err)
	require.Empty(t, get.Kvs)
}

func TestAcquireWaitsForRelease(t *testing.T) {
	cli := newClient(t)
	m, _ := newManager(t, cli)
	key := testKey(t, "lock")
	h1, err := m.KeepAlive(t.Context(), 5*time.Second)
	require.NoError(t, err)
	h2, err := m.KeepAlive(t.Context(), 5*time.Second)
	require.NoError(t, err)
	l1, _ := leases.NewLock(cli, key, "one")
	l2, _ := leases.NewLock(cli, key, "two")
	f1, err := l1.Acquire(t.Context(), h1.ID())
	require.NoError(t, err)

	got := make(chan leases.Fence, 1)
	errc := make(chan error, 1)
	go func() {
		f, err := l2.Acquire(t.Context(), h2.ID())
		errc <- err
		got <- f
	}()
	select {
	case <-errc:
		t.Fatal("Acquire returned while the lock was held")
	case <-time.After(300 * time.Millisecond):
	}
	require.NoError(t, f1.Release(t.Context(), cli))
	require.NoError(t, <-errc)
	require.Greater(t, (<-got).Token, f1.Token)
}

func TestAcquireStopsWithContext(t *testing.T) {
	cli := newClient(t)
	m, _ := newManager(t, cli)
	key := testKey(t, "lock")
	h, err := m.KeepAlive(t.Context(), 5*time.Second)
	require.NoError(t, err)
	l1, _ := leases.NewLock(cli, key, "one")
	l2, _ := leases.NewLock(cli, key, "two")
	_, err = l1.Acquire(t.Context(), h.ID())
	require.NoError(t, err)
	ctx, cancel := contextWithTimeout(t, 300*time.Millisecond)
	defer cancel()
	_, err = l2.Acquire(ctx, h.ID())
	require.Error(t, err)
}
