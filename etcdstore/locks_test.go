package etcdstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/baldur-go/baldur/etcdstore"
	"github.com/baldur-go/baldur/leases"
)

func lockKV(t *testing.T, cli *clientv3.Client, s *etcdstore.Store, configType string) (lease, createRev int64) {
	t.Helper()
	resp, err := cli.Get(t.Context(), s.Keys().Lock(configType))
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1, "lock %s exists", configType)
	return resp.Kvs[0].Lease, resp.Kvs[0].CreateRevision
}

func TestLockRequestCounts(t *testing.T) {
	cli, c := talliedClient(t)
	s := newStore(t, cli)
	ctx := t.Context()
	canary := s.Canary()

	ok, err := canary.AcquireConfigLock(ctx, "cfg", "r1", 10*time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, map[string]int{"grant": 1, "txn": 1}, c.take(), "acquire: grant and one transaction")
	lease1, token := lockKV(t, cli, s, "cfg")
	c.take()

	ok, err = canary.AcquireConfigLock(ctx, "cfg", "r2", 10*time.Second)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, map[string]int{"grant": 1, "txn": 1, "revoke": 1}, c.take(), "a lost race revokes its lease")

	// Same TTL: one keep-alive.
	ok, err = canary.ExtendConfigLock(ctx, "cfg", "r1", 10*time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, map[string]int{"keepaliveonce": 1}, c.take(), "extend with the same TTL is one request")
	ttl, err := cli.TimeToLive(ctx, clientv3.LeaseID(lease1))
	require.NoError(t, err)
	require.Equal(t, int64(10), ttl.GrantedTTL)
	require.GreaterOrEqual(t, ttl.TTL, int64(9), "the deadline was reset")
	c.take()

	// Another TTL: a new lease, re-attached under compare, old one revoked.
	ok, err = canary.ExtendConfigLock(ctx, "cfg", "r1", 20*time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, map[string]int{"grant": 1, "txn": 1, "revoke": 1}, c.take())
	lease2, token2 := lockKV(t, cli, s, "cfg")
	require.NotEqual(t, lease1, lease2)
	require.Equal(t, token, token2, "re-attaching keeps the create revision (the fencing token)")
	old, err := cli.TimeToLive(ctx, clientv3.LeaseID(lease1))
	require.NoError(t, err)
	require.Equal(t, int64(-1), old.TTL, "the old lease is revoked")
	c.take()

	// A non-owner: read and refuse.
	ok, err = canary.ExtendConfigLock(ctx, "cfg", "r2", 20*time.Second)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, map[string]int{"get": 1}, c.take())

	// Release by the owner: one revoke.
	ok, err = canary.ReleaseConfigLock(ctx, "cfg", "r1")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, map[string]int{"revoke": 1}, c.take(), "release is one revoke")
	owner, err := canary.GetConfigLockOwner(ctx, "cfg")
	require.NoError(t, err)
	require.Empty(t, owner)
}

// A lock taken through one Store can be extended and released through
// another (a restarted process): the slow paths read the key.
func TestLockAcrossStores(t *testing.T) {
	cli := newClient(t)
	a := newStore(t, cli)
	b, err := etcdstore.New(cli, etcdstore.WithPrefix(a.Keys().Prefix()))
	require.NoError(t, err)
	defer b.Close()
	ctx := t.Context()

	ok, err := a.Canary().AcquireConfigLock(ctx, "cfg", "r1", 10*time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = b.Canary().ExtendConfigLock(ctx, "cfg", "r1", 10*time.Second)
	require.NoError(t, err)
	require.True(t, ok, "b extends r1's lock (new lease, same TTL)")

	// a's cached lease was revoked by b's extension: a's fast path fails
	// and falls back to etcd, which still says r1 holds the lock.
	ok, err = a.Canary().ExtendConfigLock(ctx, "cfg", "r1", 10*time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = b.Canary().ReleaseConfigLock(ctx, "cfg", "r2")
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = b.Canary().ReleaseConfigLock(ctx, "cfg", "r1")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = a.Canary().ReleaseConfigLock(ctx, "cfg", "r1")
	require.NoError(t, err)
	require.False(t, ok, "released once only")
	locked, err := a.Canary().IsConfigLocked(ctx, "cfg")
	require.NoError(t, err)
	require.False(t, locked)
}

// Force release removes the live lock and its lease; the former owner's
// cached lease no longer releases or extends anything.
func TestForceReleaseRevokesTheLease(t *testing.T) {
	cli := newClient(t)
	s := newStore(t, cli)
	admin, err := etcdstore.New(cli, etcdstore.WithPrefix(s.Keys().Prefix()))
	require.NoError(t, err)
	defer admin.Close()
	ctx := t.Context()
	ok, err := s.Canary().AcquireConfigLock(ctx, "cfg", "r1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	lease, _ := lockKV(t, cli, s, "cfg")
	ok, err = admin.Canary().ForceReleaseConfigLock(ctx, "cfg")
	require.NoError(t, err)
	require.True(t, ok)
	ttl, err := cli.TimeToLive(ctx, clientv3.LeaseID(lease))
	require.NoError(t, err)
	require.Equal(t, int64(-1), ttl.TTL)
	ok, err = s.Canary().ExtendConfigLock(ctx, "cfg", "r1", time.Minute)
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = s.Canary().ReleaseConfigLock(ctx, "cfg", "r1")
	require.NoError(t, err)
	require.False(t, ok)
}

// A key written by hand without a lease is still a lock: owner, release and
// force release work on it.
func TestLockWithoutLease(t *testing.T) {
	cli := newClient(t)
	s := newStore(t, cli)
	ctx := t.Context()
	_, err := cli.Put(ctx, s.Keys().Lock("cfg"), "r1")
	require.NoError(t, err)
	owner, err := s.Canary().GetConfigLockOwner(ctx, "cfg")
	require.NoError(t, err)
	require.Equal(t, "r1", owner)
	ok, err := s.Canary().ReleaseConfigLock(ctx, "cfg", "r1")
	require.NoError(t, err)
	require.True(t, ok)
	_, err = cli.Put(ctx, s.Keys().Lock("cfg"), "r2")
	require.NoError(t, err)
	ok, err = s.Canary().ExtendConfigLock(ctx, "cfg", "r2", time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "extending attaches a lease")
	l, _ := lockKV(t, cli, s, "cfg")
	require.NotZero(t, l)
	ok, err = s.Canary().ForceReleaseConfigLock(ctx, "cfg")
	require.NoError(t, err)
	require.True(t, ok)
}

// The fence of a config lock stops guarded writes once the lock is gone.
func TestConfigLockFence(t *testing.T) {
	cli := newClient(t)
	s := newStore(t, cli)
	ctx := t.Context()
	ok, err := s.Canary().AcquireConfigLock(ctx, "cfg", "r1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = s.ConfigLockFence(ctx, "cfg", "r2")
	require.NoError(t, err)
	require.False(t, ok, "no fence for a non-owner")
	f, ok, err := s.ConfigLockFence(ctx, "cfg", "r1")
	require.NoError(t, err)
	require.True(t, ok)
	data := s.Keys().Prefix() + "app/data"
	_, err = f.Do(ctx, cli, clientv3.OpPut(data, "1"))
	require.NoError(t, err)
	ok, err = s.Canary().ForceReleaseConfigLock(ctx, "cfg")
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = s.Canary().AcquireConfigLock(ctx, "cfg", "r1", time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "the same owner takes the lock again")
	_, err = f.Do(ctx, cli, clientv3.OpPut(data, "2"))
	require.ErrorIs(t, err, leases.ErrNotHeld, "the old fence does not cover the new incarnation")
	resp, err := cli.Get(ctx, data)
	require.NoError(t, err)
	require.Equal(t, "1", string(resp.Kvs[0].Value))
}
