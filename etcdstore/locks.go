package etcdstore

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/leases"
)

const kindLock = "config lock"

// lockEntry is what this Store knows of a lock it acquired or extended: the
// owner, the lease the key lives under and the lease's granted TTL.
type lockEntry struct {
	owner string
	lease clientv3.LeaseID
	ttl   int64
}

// lockCache remembers the locks this Store took. Operations on one config
// type are serialised through a striped mutex, so that a release never runs
// between an extension's re-attach and its revoke of the old lease.
type lockCache struct {
	mu      sync.Mutex
	m       map[string]lockEntry
	stripes [64]sync.Mutex
}

const maxLockCache = 10000

func (c *lockCache) stripe(configType string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(configType))
	return &c.stripes[h.Sum32()%uint32(len(c.stripes))]
}

func (c *lockCache) get(configType string) (lockEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[configType]
	return e, ok
}

func (c *lockCache) put(configType string, e lockEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[configType]; !ok && len(c.m) >= maxLockCache {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[configType] = e
}

func (c *lockCache) drop(configType string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, configType)
}

// revokeQuietly revokes a lease that holds nothing we want, with its own
// short deadline (the caller's context may be the reason we are cleaning up).
// A failure is logged: the lease expires on its own.
func (s *Store) revokeQuietly(id clientv3.LeaseID) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := s.cli.Revoke(ctx, id); err != nil && !leases.IsLeaseNotFound(err) {
		s.log.Warn("revoking an unused lock lease failed; it will expire on its own",
			zap.Int64("lease", int64(id)), zap.Error(err))
	}
}

func (c *canaryStore) AcquireConfigLock(ctx context.Context, configType, rolloutID string, timeout time.Duration) (bool, error) {
	s := c.s
	if err := s.check(); err != nil {
		return false, err
	}
	if err := validateLockArgs(configType, rolloutID); err != nil {
		return false, err
	}
	d, err := baldur.LockTimeout(timeout)
	if err != nil {
		return false, err
	}
	mu := s.locks.stripe(configType)
	mu.Lock()
	defer mu.Unlock()

	key := s.keys.Lock(configType)
	g, err := s.cli.Grant(ctx, leases.Seconds(d))
	if err != nil {
		return false, wrapErr(err, "acquire", kindLock, configType, 0)
	}
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, rolloutID, clientv3.WithLease(g.ID))).
		Commit()
	if err != nil {
		// The put may or may not have happened; revoking the lease removes
		// the lock if it did, so the caller's error leaves no lock behind.
		s.revokeQuietly(g.ID)
		return false, wrapErr(err, "acquire", kindLock, configType, len(rolloutID))
	}
	if !resp.Succeeded {
		s.revokeQuietly(g.ID)
		return false, nil
	}
	s.locks.put(configType, lockEntry{owner: rolloutID, lease: g.ID, ttl: g.TTL})
	return true, nil
}

func (c *canaryStore) ReleaseConfigLock(ctx context.Context, configType, rolloutID string) (bool, error) {
	s := c.s
	if err := s.check(); err != nil {
		return false, err
	}
	if err := validateLockArgs(configType, rolloutID); err != nil {
		return false, err
	}
	mu := s.locks.stripe(configType)
	mu.Lock()
	defer mu.Unlock()

	if e, ok := s.locks.get(configType); ok && e.owner == rolloutID {
		// The lock key is the only key on its lease and is never moved to
		// another owner's lease: while the lease lives, our key lives on it.
		// Revoking it deletes exactly our lock, atomically, in one request.
		_, err := s.cli.Revoke(ctx, e.lease)
		if err == nil {
			s.locks.drop(configType)
			return true, nil
		}
		if !leases.IsLeaseNotFound(err) {
			return false, wrapErr(err, "release", kindLock, configType, 0)
		}
		// Expired, or re-attached elsewhere by the same owner: ask etcd.
		s.locks.drop(configType)
	}
	kv, err := s.lockKV(ctx, configType)
	if err != nil || kv == nil || string(kv.Value) != rolloutID {
		return false, err
	}
	return s.removeLock(ctx, configType, kv)
}

// lockKV reads the lock key; nil when unlocked.
func (s *Store) lockKV(ctx context.Context, configType string) (*mvccpb.KeyValue, error) {
	resp, err := s.cli.Get(ctx, s.keys.Lock(configType))
	if err != nil {
		return nil, wrapErr(err, "read", kindLock, configType, 0)
	}
	if len(resp.Kvs) == 0 {
		return nil, nil
	}
	return resp.Kvs[0], nil
}

// removeLock removes the lock incarnation kv describes, and nothing newer:
// revoking its lease removes it if and only if that lease still lives (a
// lease is never re-used for another owner). A key without a lease (written
// by hand) is deleted under a compare on its mod revision.
func (s *Store) removeLock(ctx context.Context, configType string, kv *mvccpb.KeyValue) (bool, error) {
	if kv.Lease == 0 {
		resp, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(string(kv.Key)), "=", kv.ModRevision)).
			Then(clientv3.OpDelete(string(kv.Key))).
			Commit()
		if err != nil {
			return false, wrapErr(err, "release", kindLock, configType, 0)
		}
		return resp.Succeeded, nil
	}
	if _, err := s.cli.Revoke(ctx, clientv3.LeaseID(kv.Lease)); err != nil {
		if leases.IsLeaseNotFound(err) {
			return false, nil
		}
		return false, wrapErr(err, "release", kindLock, configType, 0)
	}
	return true, nil
}

func (c *canaryStore) GetConfigLockOwner(ctx context.Context, configType string) (string, error) {
	s := c.s
	if err := s.check(); err != nil {
		return "", err
	}
	if err := baldur.ValidateID("config type", configType); err != nil {
		return "", err
	}
	kv, err := s.lockKV(ctx, configType)
	if err != nil || kv == nil {
		return "", err
	}
	return string(kv.Value), nil
}

func (c *canaryStore) IsConfigLocked(ctx context.Context, configType string) (bool, error) {
	owner, err := c.GetConfigLockOwner(ctx, configType)
	return owner != "", err
}

func (c *canaryStore) ForceReleaseConfigLock(ctx context.Context, configType string) (bool, error) {
	s := c.s
	if err := s.check(); err != nil {
		return false, err
	}
	if err := baldur.ValidateID("config type", configType); err != nil {
		return false, err
	}
	mu := s.locks.stripe(configType)
	mu.Lock()
	defer mu.Unlock()
	s.locks.drop(configType)
	// A lock whose lease expired is already gone from etcd: only a live lock
	// can be found here, and only that incarnation is removed.
	kv, err := s.lockKV(ctx, configType)
	if err != nil || kv == nil {
		return false, err
	}
	return s.removeLock(ctx, configType, kv)
}

func (c *canaryStore) ExtendConfigLock(ctx context.Context, configType, rolloutID string, additional time.Duration) (bool, error) {
	s := c.s
	if err := s.check(); err != nil {
		return false, err
	}
	if err := validateLockArgs(configType, rolloutID); err != nil {
		return false, err
	}
	d, err := baldur.LockTimeout(additional)
	if err != nil {
		return false, err
	}
	secs := leases.Seconds(d)
	mu := s.locks.stripe(configType)
	mu.Lock()
	defer mu.Unlock()

	e, cached := s.locks.get(configType)
	cached = cached && e.owner == rolloutID
	if cached && e.ttl == secs {
		// Same TTL: one keep-alive resets the deadline to now + TTL. Only
		// this process knows the lease id, the lease carries only our lock
		// key, and a live lease means a live lock with us as owner.
		_, err := s.cli.KeepAliveOnce(ctx, e.lease)
		if err == nil {
			return true, nil
		}
		if !leases.IsLeaseNotFound(err) {
			return false, wrapErr(err, "extend", kindLock, configType, 0)
		}
		s.locks.drop(configType)
		cached = false
	}
	var old clientv3.LeaseID
	if cached {
		old = e.lease
	} else {
		kv, err := s.lockKV(ctx, configType)
		if err != nil || kv == nil || string(kv.Value) != rolloutID {
			return false, err
		}
		old = clientv3.LeaseID(kv.Lease)
	}
	ok, err := s.reattach(ctx, configType, rolloutID, old, secs)
	if err != nil || ok || !cached {
		return ok, err
	}
	// The cache was stale (someone with the same owner name re-attached the
	// lock); decide from what etcd holds.
	s.locks.drop(configType)
	kv, err := s.lockKV(ctx, configType)
	if err != nil || kv == nil || string(kv.Value) != rolloutID {
		return false, err
	}
	return s.reattach(ctx, configType, rolloutID, clientv3.LeaseID(kv.Lease), secs)
}

// reattach moves the lock key of owner from lease old to a fresh lease of
// secs seconds, under a compare on owner and lease, then revokes old.
func (s *Store) reattach(ctx context.Context, configType, owner string, old clientv3.LeaseID, secs int64) (bool, error) {
	key := s.keys.Lock(configType)
	g, err := s.cli.Grant(ctx, secs)
	if err != nil {
		return false, wrapErr(err, "extend", kindLock, configType, 0)
	}
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.Value(key), "=", owner),
			clientv3.Compare(clientv3.LeaseValue(key), "=", old)).
		Then(clientv3.OpPut(key, owner, clientv3.WithLease(g.ID))).
		Commit()
	if err != nil {
		// Unknown outcome: keep the new lease (the key may be on it); it
		// expires after secs if unused.
		return false, wrapErr(err, "extend", kindLock, configType, 0)
	}
	if !resp.Succeeded {
		s.revokeQuietly(g.ID)
		return false, nil
	}
	s.locks.put(configType, lockEntry{owner: owner, lease: g.ID, ttl: g.TTL})
	if old != 0 {
		// The old lease carries nothing now.
		if _, err := s.cli.Revoke(ctx, old); err != nil && !leases.IsLeaseNotFound(err) {
			s.log.Warn("revoking a lock's previous lease failed; it will expire on its own",
				zap.String("config_type", configType), zap.Int64("lease", int64(old)), zap.Error(err))
		}
	}
	return true, nil
}

// ConfigLockFence returns the fence of configType's lock if owner holds a
// live one: writes guarded by it (leases.Fence.Do) fail once the lock is
// released, expires or changes hands. ok is false when owner does not hold
// the lock.
func (s *Store) ConfigLockFence(ctx context.Context, configType, owner string) (leases.Fence, bool, error) {
	if err := s.check(); err != nil {
		return leases.Fence{}, false, err
	}
	if err := validateLockArgs(configType, owner); err != nil {
		return leases.Fence{}, false, err
	}
	kv, err := s.lockKV(ctx, configType)
	if err != nil || kv == nil || string(kv.Value) != owner {
		return leases.Fence{}, false, err
	}
	return leases.Fence{Key: string(kv.Key), Token: kv.CreateRevision, Lease: clientv3.LeaseID(kv.Lease)}, true, nil
}

func validateLockArgs(configType, rolloutID string) error {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return err
	}
	return baldur.ValidateID("rollout id", rolloutID)
}
