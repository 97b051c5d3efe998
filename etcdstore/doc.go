// Package etcdstore is the etcd backend of Baldur's state stores: the four
// domain stores (canary rollouts and their config locks, chaos experiments,
// config history, cross-cluster propagation), a session provider and a
// health provider, over one *clientv3.Client.
//
//	s, err := etcdstore.New(cli, etcdstore.WithPrefix("/baldur/"))
//	defer s.Close()
//	ok, err := s.Canary().SaveRollout(ctx, "r1", rec, time.Hour, nil)
//
// Every method behaves as CONTRACT.md says and passes the storetest suite
// unchanged. This doc explains how each one maps onto etcd.
//
// # Key layout
//
// Under the prefix (default "/baldur/"), one line per key family:
//
//	canary/rollout/{id}               rollout record JSON, shared TTL lease
//	canary/active/{id}                "" (active set member), no lease
//	canary/lock/{configType}          owner rollout id, a lease of its own
//	chaos/experiment/{id}             experiment record JSON, shared TTL lease
//	history/{type}/counter            "" ; its etcd Version is the version counter
//	history/{type}/current            current version entry JSON
//	history/{type}/entries            JSON array of version entries, newest first
//	crosscluster/request/{id}         propagation request JSON, shared TTL lease
//	crosscluster/pending/{cluster}/{id} "" (pending set member), no lease
//	crosscluster/policy/{id}          governance policy JSON, no lease
//	sessions/{user}/{session}         session data JSON, shared TTL lease
//
// Ids never contain '/', so a family prefix plus an id is unambiguous and a
// range read of a family returns its members sorted by id. Values are the
// records' compact JSON, readable by any etcd tool (and replicated as is by
// the sync agent).
//
// # Optimistic saves
//
// SaveRollout with an expected version is one transaction:
//
//	If(ModRevision(key) == r) Then(Put(key, record, lease)) Else(Get(key))
//
// where r is the mod revision at which the Store last saw the record with
// the expected version. The Store remembers, per record, the last mod
// revision it saw and the version the record had there (a bounded cache,
// WithRevisionCache, evicting arbitrary entries when full), filled by every
// GetRollout, every save and every Else branch. So:
//
//   - GetRollout then SaveRollout costs two requests, one for the save;
//   - a conflict costs no extra read: the Else branch returns the record as it
//     is now; if its version still equals the expected one (the record was
//     rewritten without a version change, e.g. a TTL reset) the transaction
//     is retried on the new revision, otherwise the save returns false;
//   - a record absent or expired makes the comparison fail (its mod revision
//     is 0) and the Else branch return nothing: false;
//   - without a cached revision (another process wrote it, or the entry was
//     evicted), or when the cache says the version differs, the Store reads
//     the record first and decides from what etcd holds: two requests.
//
// The comparison is on etcd's revision, not on the version inside the JSON,
// which etcd cannot see; the cache is only a hint, never trusted for the
// outcome: a stale revision fails the comparison and costs one retry.
// Of two concurrent saves with the same expected version exactly one
// transaction's comparison holds.
//
// # Request updates
//
// CrossCluster() also implements baldur.RequestUpdater. UpdateRequest reads
// the request (Get), calls fn, and writes fn's record in one transaction:
//
//	If(ModRevision(key) == r) Then(Put(key, record, lease)) Else(Get(key))
//
// with r the mod revision it read and the lease from the same shared lease
// path as SaveRequest. On a conflict the Else branch brings the request as it
// is now and fn runs again on it, without another read; if the Else branch
// finds nothing (the request was deleted or expired) the result is
// baldur.ErrNotFound. Of two concurrent updates of one request exactly one
// transaction's comparison holds, so a status change decided by fn (the
// cross-cluster approvals) happens once.
//
// # Record TTLs
//
// A record's TTL is a lease. Leases are shared between records whose
// deadlines fall in the same window (package leases): a record never expires
// before its TTL, measured from the start of the call, and for a TTL of whole
// seconds at most 0.4 s later, plus up to 0.5 s for etcd's leader to notice
// the expired lease (it checks every 500 ms); a TTL with a fraction of a
// second is rounded up to whole seconds; a TTL under 2 s counts as 2 s. A
// lease carries at most 1000 keys. Because etcd counts a lease's TTL in
// whole seconds from its grant, the lease manager grants ahead for a steady
// flow of saves with one TTL (about three grants a second, a couple more per
// thousand saves a second, off the saves' path); the first 0.6 s of a flow,
// and isolated saves, pay one grant each (concurrent saves share it).
// If a shared lease vanished between its grant and the put (revoked, or
// expired during a pause), etcd answers "requested lease not found"; the
// Store forgets the lease and retries the write once with a fresh one.
//
// Close never revokes record leases: records outlive the process, like TTLs
// in any other store.
//
// # Config locks
//
// Each config lock is one key with a lease of its own, granted for the lock
// timeout (whole seconds, rounded up, at least 2 s). The key is the only key
// on its lease and is never moved to another owner's lease, so while the
// lease lives, the lock lives, with the same owner. Hence:
//
//   - acquire: Grant, then Txn(If CreateRevision(key) == 0 Then Put(owner,
//     lease)); a lost race revokes the granted lease at once. Two requests.
//   - release by the owner that acquired through this Store: Revoke(lease),
//     one request; revoking deletes exactly that lock, atomically. Otherwise
//     (another Store, or the cached lease is gone): Get, check the owner,
//     Revoke the lease the key lives under. A lease that is gone answers
//     "not found": the lock expired or changed hands, and the result is false.
//   - force release: Get, then Revoke the key's lease. Only a live lock can be
//     found (etcd already deleted a lock whose lease expired), and only that
//     incarnation is removed: if it changed hands in between, the revoke of
//     the old lease finds nothing and the result is false.
//   - extend to the lease's own TTL: KeepAliveOnce(lease), one request; the
//     deadline becomes now + TTL. The ownership check is the lease itself:
//     only the process that acquired the lock knows its lease id (from the
//     acquire, cached per Store), a live lease means a live lock with that
//     owner, and a gone lease fails the keep-alive, which returns false.
//   - extend to another TTL: Grant a new lease, Txn(If Value(key) == owner
//     AND Lease(key) == old Then Put(owner, new)), then Revoke the old lease.
//     The key keeps its create revision (the fencing token).
//
// Operations on one config type are serialised within a Store, so a release
// never falls between an extension's re-attach and its revoke. The residual
// risk: two processes acting as the same owner on the same lock at the same
// moment (one re-attaching while the other releases) can both report true
// for a release that did not remove the lock; owners are rollout ids, which
// one process drives at a time.
//
// A lease is not a clock (a leader change without lease checkpointing resets
// it; a paused process wakes up late), so a lock holder that writes under its
// lock should fence its writes: ConfigLockFence returns a leases.Fence whose
// comparison a guarded write puts in its own transaction.
//
// # Config history
//
// NextVersion is one Put of the counter key with WithPrevKV: a key's etcd
// Version counts its puts since creation, so the new counter is the previous
// Version plus one. etcd applies puts one at a time: N concurrent callers get
// 1..N. Clear deletes the key, so the next version is 1 again.
//
// SaveVersion keeps the history of a type in one key (a JSON array, newest
// first, trimmed to maxEntries) and the current version in another, written
// by one transaction:
//
//	If(ModRevision(entries) == r) Then(Put(entries, [new, ...kept]), Put(current, new)) Else(Get(entries))
//
// so GetCurrent always equals GetHistory(...)[0]. The Store caches the
// history it last saw per type (bounded in types and bytes): a writer that is
// the only one for its type saves in one request; a new type is tried with
// r = 0 (absent) first. On a conflict the Else branch brings the history
// that won, and the transaction is retried on it (last write wins).
// Clear is one range delete of history/{type}/.
//
// One key per history keeps the transaction at two operations, far inside
// etcd's 128, but the whole history must fit one request (1.5 MiB by
// default, --max-request-bytes): a history that outgrows it fails with
// baldur.ErrTooLarge naming the type and the size; keep maxEntries bounded.
//
// # Sessions and health
//
// Sessions (Register, Get, Delete) live under sessions/{user}/{session} with
// a shared lease for their TTL. InvalidateUserSessions deletes the user's
// prefix inside one transaction and reports ["etcd_sessions(N)"] from the
// delete's count; GetActiveSessionCount is a count-only range read.
//
// Health has one alias, "default". It is usable when a linearizable read
// (which needs a leader and a quorum) answers within WithHealthTimeout
// (default 2 s); the metadata (member id, leader, raft term and index, db
// size, server version) comes from Maintenance.Status on the client's
// endpoints. CloseAll closes the client only if the Store owns it
// (WithOwnClient).
//
// # Errors
//
// A write that times out, is cancelled, or loses its leader returns an error,
// never false: its outcome is unknown. etcd's limits come back as the
// project's sentinels with the id and the size in the message:
// "request is too large", "too many operations in txn request" and a gRPC
// message over a size limit are baldur.ErrTooLarge; "database space
// exceeded" (the NOSPACE alarm) is baldur.ErrQuotaExceeded. The original
// etcd error stays in the chain. Errors are classified with errors.Is on
// rpctypes' values and by gRPC code, never by their text.
//
// # Decisions
//
// The stores are hand-written on clientv3 rather than built on etcd's
// concurrency package: concurrency.Mutex needs a session (a kept-alive
// lease) per lock holder and queues waiters, while a config lock is a
// try-lock with its own deadline that must survive the process that took it;
// and no etcd package shares leases between records.
package etcdstore
