// Package leases holds the etcd lease machinery of the etcd backend: a
// Manager that shares leases between records and keeps alive the leases a
// process holds, and a fenced Lock.
//
// # Shared record leases
//
// Every record with a TTL needs a lease, and a lease costs a raft write to
// grant and memory on every member while it lives. Manager.Lease therefore
// shares leases, as Kubernetes' apiserver does for events: a record whose
// call started at t with ttl gets a cached lease of its TTL class that
// expires in [t+ttl, t+ttl+MaxOvershoot], and a new one is granted only when
// none fits. So:
//
//   - a record never expires before its TTL, counted from the start of the
//     call: the expiry the Manager assumes for a lease is a lower bound (the
//     clock is read before the grant is sent, and etcd starts the lease's
//     clock when it applies the grant);
//   - with a whole-second TTL a record outlives it by at most MaxOvershoot
//     (0.4 s), plus up to 0.5 s for etcd's leader to notice the expired lease
//     (it scans every 500 ms): under a second in all, which is the margin
//     the conformance suite allows; a TTL with a fraction of a second is
//     rounded up to whole seconds, and a TTL below MinTTL (2 s) counts as 2 s;
//   - a lease serves at most DefaultMaxKeysPerLease keys (1000, Kubernetes'
//     figure), so expiring or revoking it stays one small raft entry.
//
// etcd counts a lease's TTL in whole seconds from its grant, so a lease
// granted now for a whole-second TTL fits only the calls that started before
// the grant was sent. The Manager uses that twice:
//
//   - callers that queue behind a grant (the mutex is held across it) read
//     the clock before queueing, and so share the lease granted next;
//   - for a flow of calls with one TTL (two calls less than a second apart)
//     it grants ahead, in a goroutine it owns: a lease of floor(ttl)+1
//     seconds serves the calls made 0.6 to 1 s after its grant, and one is
//     granted whenever the cached ones stop serving within 0.7 s (several
//     when the last second's call rate needs more than one lease's 1000
//     keys per window). A steady flow costs about three grants a second,
//     a couple more per thousand calls a second, none on the callers' path;
//     the first 0.6 s of a flow, and isolated calls, pay one grant each
//     (when they do not run concurrently).
//
// A shared lease can vanish between the grant and its use (revoked by an
// operator, expired during a long pause). etcd then answers "requested lease
// not found" (rpctypes.ErrLeaseNotFound); WithLease forgets that lease and
// retries the write once with a fresh one.
//
// Record leases are never revoked by Close (nor are leases granted ahead):
// records outlive the process, like TTLs in any other store.
//
// # Held leases
//
// Manager.KeepAlive grants a lease and keeps it alive from a goroutine the
// Manager owns, like a session of etcd's concurrency package. Close cancels
// every keep-alive, waits for the goroutines and revokes these leases (and so
// deletes the keys attached to them, such as a held Lock).
//
// # Fenced locks
//
// A lease is not a clock. A lock that lives under a lease can be lost while
// its holder still believes it holds it:
//
//   - etcd resets every lease to its full TTL when the leader changes unless
//     lease checkpointing (LeaseCheckpoint, LeaseCheckpointPersist) is on, so
//     a lease can outlive its TTL; the holder's local timer and etcd disagree;
//   - a holder can pause (GC, a stopped VM, a partition) past its lease, wake
//     up and carry on writing after someone else took the lock.
//
// So a Lock hands out a Fence: the lock key's create revision, which etcd
// makes unique and increasing, is the fencing token, and Fence.Cmp is a
// clientv3.Cmp that holds only while the lock key is that very key. A guarded
// write puts the comparison in its own transaction (Fence.Do: If(cmp)
// Then(write)); once the lease has expired, been revoked, or the lock was
// taken over, the key is gone or has a new create revision and the write is
// refused by etcd itself, whatever the holder believes.
//
// The usual call path:
//
//	m, _ := leases.NewManager(cli.Lease)
//	defer m.Close()
//	held, _ := m.KeepAlive(ctx, 10*time.Second)
//	lock, _ := leases.NewLock(cli, "/app/locks/reindex", "worker-1")
//	fence, _ := lock.Acquire(ctx, held.ID())
//	_, err := fence.Do(ctx, cli, clientv3.OpPut("/app/state", "done"))
//	_ = fence.Release(ctx, cli)
//
// The package is hand-written rather than built on etcd's concurrency
// package because concurrency.Session keeps one lease per session and
// concurrency.Mutex queues waiters under a prefix; neither shares leases
// between records, and neither exposes the fencing comparison as a value a
// caller can put in its own transaction (Mutex.IsOwner comes closest).
package leases
