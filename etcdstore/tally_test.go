package etcdstore_test

import (
	"context"
	"sync"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// tally counts the requests a Store sends, by kind. (The benchmarks have
// their own counter; this one is for the tests' exact per-call checks.)
type tally struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *tally) add(kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[kind]++
}

// take returns the counts since the last take and resets them.
func (c *tally) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = nil
	if n == nil {
		n = map[string]int{}
	}
	return n
}

type tallyKV struct {
	clientv3.KV
	c *tally
}

func (k tallyKV) Put(ctx context.Context, key, val string, opts ...clientv3.OpOption) (*clientv3.PutResponse, error) {
	k.c.add("put")
	return k.KV.Put(ctx, key, val, opts...)
}

func (k tallyKV) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	k.c.add("get")
	return k.KV.Get(ctx, key, opts...)
}

func (k tallyKV) Delete(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.DeleteResponse, error) {
	k.c.add("delete")
	return k.KV.Delete(ctx, key, opts...)
}

func (k tallyKV) Do(ctx context.Context, op clientv3.Op) (clientv3.OpResponse, error) {
	k.c.add("do")
	return k.KV.Do(ctx, op)
}

func (k tallyKV) Txn(ctx context.Context) clientv3.Txn {
	return tallyTxn{Txn: k.KV.Txn(ctx), c: k.c}
}

type tallyTxn struct {
	clientv3.Txn
	c *tally
}

func (t tallyTxn) If(cs ...clientv3.Cmp) clientv3.Txn {
	return tallyTxn{Txn: t.Txn.If(cs...), c: t.c}
}

func (t tallyTxn) Then(ops ...clientv3.Op) clientv3.Txn {
	return tallyTxn{Txn: t.Txn.Then(ops...), c: t.c}
}

func (t tallyTxn) Else(ops ...clientv3.Op) clientv3.Txn {
	return tallyTxn{Txn: t.Txn.Else(ops...), c: t.c}
}

func (t tallyTxn) Commit() (*clientv3.TxnResponse, error) {
	t.c.add("txn")
	return t.Txn.Commit()
}

type tallyLease struct {
	clientv3.Lease
	c *tally
}

func (l tallyLease) Grant(ctx context.Context, ttl int64) (*clientv3.LeaseGrantResponse, error) {
	l.c.add("grant")
	return l.Lease.Grant(ctx, ttl)
}

func (l tallyLease) Revoke(ctx context.Context, id clientv3.LeaseID) (*clientv3.LeaseRevokeResponse, error) {
	l.c.add("revoke")
	return l.Lease.Revoke(ctx, id)
}

func (l tallyLease) KeepAliveOnce(ctx context.Context, id clientv3.LeaseID) (*clientv3.LeaseKeepAliveResponse, error) {
	l.c.add("keepaliveonce")
	return l.Lease.KeepAliveOnce(ctx, id)
}

func (l tallyLease) TimeToLive(ctx context.Context, id clientv3.LeaseID, opts ...clientv3.LeaseOption) (*clientv3.LeaseTimeToLiveResponse, error) {
	l.c.add("timetolive")
	return l.Lease.TimeToLive(ctx, id, opts...)
}

// talliedClient returns a fresh client whose KV and Lease requests are
// counted in the returned tally.
func talliedClient(t *testing.T) (*clientv3.Client, *tally) {
	cli := newClient(t)
	c := &tally{}
	cli.KV = tallyKV{KV: cli.KV, c: c}
	cli.Lease = tallyLease{Lease: cli.Lease, c: c}
	return cli, c
}
