package etcdstore_test

import (
	"context"
	"sync/atomic"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// reqCounter counts the requests a client sends to etcd through its KV and
// Lease interfaces: one per Put, Get, Delete, Do, Compact, committed Txn,
// Grant, Revoke, KeepAliveOnce, TimeToLive, Leases, and one per KeepAlive
// stream opened (the stream's later messages are sent inside clientv3, out
// of reach of the interface, and are not counted; the stores do not use
// KeepAlive streams for records or locks).
type reqCounter struct {
	n atomic.Int64
}

func (c *reqCounter) add(string)   { c.n.Add(1) }
func (c *reqCounter) load() int64  { return c.n.Load() }
func (c *reqCounter) reset() int64 { return c.n.Swap(0) }

// counter is what the wrappers report each request to, by kind ("put",
// "txn", "grant", ...): reqCounter totals them for the benchmarks, tally
// keeps them by kind for the tests' exact per-call checks.
type counter interface{ add(kind string) }

// countRequests swaps cli.KV and cli.Lease for counting wrappers and returns
// the counter. Call it before handing cli to etcdstore.New: the Store takes
// the client's Lease when it is built.
func countRequests(cli *clientv3.Client) *reqCounter {
	c := &reqCounter{}
	wrapClient(cli, c)
	return c
}

// wrapClient swaps cli.KV and cli.Lease for wrappers reporting to c.
func wrapClient(cli *clientv3.Client, c counter) {
	cli.KV = countingKV{KV: cli.KV, c: c}
	cli.Lease = countingLease{Lease: cli.Lease, c: c}
}

type countingKV struct {
	clientv3.KV
	c counter
}

func (k countingKV) Put(ctx context.Context, key, val string, opts ...clientv3.OpOption) (*clientv3.PutResponse, error) {
	k.c.add("put")
	return k.KV.Put(ctx, key, val, opts...)
}

func (k countingKV) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	k.c.add("get")
	return k.KV.Get(ctx, key, opts...)
}

func (k countingKV) Delete(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.DeleteResponse, error) {
	k.c.add("delete")
	return k.KV.Delete(ctx, key, opts...)
}

func (k countingKV) Compact(ctx context.Context, rev int64, opts ...clientv3.CompactOption) (*clientv3.CompactResponse, error) {
	k.c.add("compact")
	return k.KV.Compact(ctx, rev, opts...)
}

func (k countingKV) Do(ctx context.Context, op clientv3.Op) (clientv3.OpResponse, error) {
	k.c.add("do")
	return k.KV.Do(ctx, op)
}

func (k countingKV) Txn(ctx context.Context) clientv3.Txn {
	return countingTxn{Txn: k.KV.Txn(ctx), c: k.c}
}

// countingTxn counts a transaction once, when it is committed.
type countingTxn struct {
	clientv3.Txn
	c counter
}

func (t countingTxn) If(cs ...clientv3.Cmp) clientv3.Txn {
	return countingTxn{Txn: t.Txn.If(cs...), c: t.c}
}

func (t countingTxn) Then(ops ...clientv3.Op) clientv3.Txn {
	return countingTxn{Txn: t.Txn.Then(ops...), c: t.c}
}

func (t countingTxn) Else(ops ...clientv3.Op) clientv3.Txn {
	return countingTxn{Txn: t.Txn.Else(ops...), c: t.c}
}

func (t countingTxn) Commit() (*clientv3.TxnResponse, error) {
	t.c.add("txn")
	return t.Txn.Commit()
}

type countingLease struct {
	clientv3.Lease
	c counter
}

func (l countingLease) Grant(ctx context.Context, ttl int64) (*clientv3.LeaseGrantResponse, error) {
	l.c.add("grant")
	return l.Lease.Grant(ctx, ttl)
}

func (l countingLease) Revoke(ctx context.Context, id clientv3.LeaseID) (*clientv3.LeaseRevokeResponse, error) {
	l.c.add("revoke")
	return l.Lease.Revoke(ctx, id)
}

func (l countingLease) TimeToLive(ctx context.Context, id clientv3.LeaseID, opts ...clientv3.LeaseOption) (*clientv3.LeaseTimeToLiveResponse, error) {
	l.c.add("timetolive")
	return l.Lease.TimeToLive(ctx, id, opts...)
}

func (l countingLease) Leases(ctx context.Context) (*clientv3.LeaseLeasesResponse, error) {
	l.c.add("leases")
	return l.Lease.Leases(ctx)
}

func (l countingLease) KeepAlive(ctx context.Context, id clientv3.LeaseID) (<-chan *clientv3.LeaseKeepAliveResponse, error) {
	l.c.add("keepalive")
	return l.Lease.KeepAlive(ctx, id)
}

func (l countingLease) KeepAliveOnce(ctx context.Context, id clientv3.LeaseID) (*clientv3.LeaseKeepAliveResponse, error) {
	l.c.add("keepaliveonce")
	return l.Lease.KeepAliveOnce(ctx, id)
}
