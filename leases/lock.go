package leases

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Lock is a fenced mutual-exclusion lock on one etcd key. The holder writes
// its owner name into the key under a lease; the key's create revision is
// the fencing token. Every write the holder makes under the lock goes
// through the Fence, in the same transaction as the fence's comparison, so a
// holder whose lease ran out (or whose lock was taken over) cannot write any
// more, however late it wakes up.
type Lock struct {
	client *clientv3.Client
	key    string
	owner  string
}

// NewLock returns a lock on key for owner. Nothing is sent to etcd.
func NewLock(client *clientv3.Client, key, owner string) (*Lock, error) {
	switch {
	case client == nil:
		return nil, errors.New("leases: NewLock: nil client")
	case key == "":
		return nil, errors.New("leases: NewLock: empty key")
	case owner == "":
		return nil, errors.New("leases: NewLock: empty owner")
	}
	return &Lock{client: client, key: key, owner: owner}, nil
}

// Key is the lock's key.
func (l *Lock) Key() string { return l.key }

// Fence is proof of holding a Lock: the key, the fencing token (the key's
// create revision when it was acquired) and the lease it lives under.
type Fence struct {
	Key   string
	Token int64
	Lease clientv3.LeaseID
}

// ErrNotHeld is returned by Fence.Do and Fence.Release when the lock is no
// longer the one the fence was issued for.
var ErrNotHeld = errors.New("leases: lock not held")

// TryAcquire takes the lock under lease if nobody holds it, in one
// transaction. It is not re-entrant: when the key exists, whoever holds it,
// it returns false and the current holder's owner name.
func (l *Lock) TryAcquire(ctx context.Context, lease clientv3.LeaseID) (Fence, bool, string, error) {
	resp, err := l.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(l.key), "=", 0)).
		Then(clientv3.OpPut(l.key, l.owner, clientv3.WithLease(lease))).
		Else(clientv3.OpGet(l.key)).
		Commit()
	if err != nil {
		return Fence{}, false, "", fmt.Errorf("leases: acquire %s: %w", l.key, err)
	}
	if resp.Succeeded {
		// A put that creates the key creates it at the transaction's revision.
		return Fence{Key: l.key, Token: resp.Header.Revision, Lease: lease}, true, l.owner, nil
	}
	holder := ""
	if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
		holder = string(kvs[0].Value)
	}
	return Fence{}, false, holder, nil
}

// Acquire waits until it takes the lock under lease, or ctx ends. While the
// key is held it watches for its deletion instead of polling.
func (l *Lock) Acquire(ctx context.Context, lease clientv3.LeaseID) (Fence, error) {
	for {
		f, ok, _, err := l.TryAcquire(ctx, lease)
		if err != nil || ok {
			return f, err
		}
		if err := l.waitDelete(ctx); err != nil {
			return Fence{}, err
		}
	}
}

func (l *Lock) waitDelete(ctx context.Context) error {
	resp, err := l.client.Get(ctx, l.key)
	if err != nil {
		return fmt.Errorf("leases: acquire %s: %w", l.key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wch := l.client.Watch(wctx, l.key, clientv3.WithRev(resp.Header.Revision+1), clientv3.WithFilterPut())
	for w := range wch {
		if err := w.Err(); err != nil {
			return fmt.Errorf("leases: watch %s: %w", l.key, err)
		}
		for _, ev := range w.Events {
			if ev.Type == clientv3.EventTypeDelete {
				return nil
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("leases: acquire %s: %w", l.key, err)
	}
	return fmt.Errorf("leases: watch %s ended", l.key)
}

// Cmp is the comparison a guarded write puts in its own transaction: it
// holds only while the lock key is the very key this fence was issued for
// (same create revision), so neither an expired lease nor a new holder lets
// the write through.
func (f Fence) Cmp() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(f.Key), "=", f.Token)
}

// Do runs ops in one transaction guarded by the fence. It returns ErrNotHeld,
// having written nothing, when the lock is no longer held under this fence.
func (f Fence) Do(ctx context.Context, kv clientv3.KV, ops ...clientv3.Op) (*clientv3.TxnResponse, error) {
	resp, err := kv.Txn(ctx).If(f.Cmp()).Then(ops...).Commit()
	if err != nil {
		return nil, fmt.Errorf("leases: guarded write under %s: %w", f.Key, err)
	}
	if !resp.Succeeded {
		return resp, fmt.Errorf("%w: %s (token %d)", ErrNotHeld, f.Key, f.Token)
	}
	return resp, nil
}

// Release deletes the lock key if it is still the one this fence was issued
// for. It does not revoke the lease (the caller owns it). It returns
// ErrNotHeld when the lock was already gone or taken over.
func (f Fence) Release(ctx context.Context, kv clientv3.KV) error {
	_, err := f.Do(ctx, kv, clientv3.OpDelete(f.Key))
	return err
}
