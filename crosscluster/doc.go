// Package crosscluster carries configuration decisions between Baldur
// clusters, each of which has its own etcd.
//
// It has two halves.
//
// Service is the propagation workflow over any baldur.CrossClusterStore
// (memstore in one process, etcdstore per cluster). CreateRequests writes
// one request per target cluster, id "{base}-{target}", status
// pending_approval, expires_at 24 h after creation, store TTL 7 days, and
// adds it to the target's pending set. Approve, Reject and ExpireOld move a
// request on; approving an unknown, no longer pending or expired request
// returns ErrRequestNotFound, ErrNotPending or ErrRequestExpired, and only
// the target cluster decides (ErrNotTarget elsewhere). An apply
// callback given to Approve runs the change; on success the request becomes
// applied. SavePolicy and ValidateConfig keep and enforce governance
// policies: a config is valid when every rule whose field it has holds (min,
// max, allowed), and with no policy it is valid. ValidatePolicy is the one
// parser of stored policies, used by the service, the replicator and the
// sync agent's Consul import.
//
//	svc, _ := crosscluster.NewService(store.CrossCluster(), "east")
//	svc.CreateRequests(ctx, "retry-5", []string{"west"}, change)
//	// ... in west:
//	svc.Approve(ctx, "retry-5-west", "bob", applyFn)
//
// Replicator moves the records. Each cluster runs one (the sync agent,
// cmd/baldur-sync); it pulls the policy and request families from every
// peer's etcd into the local etcd:
//
//   - it lists a peer at revision R, then watches from R+1 with previous
//     values; each source revision becomes one local transaction that also
//     writes the peer's checkpoint ({prefix}sync/checkpoint/{peer}), so a
//     restart resumes exactly where the last one stopped: nothing lost,
//     nothing applied twice;
//   - when the peer compacted past the checkpoint it re-lists, and deletes
//     local copies received from that peer that the peer no longer has;
//   - every copy is written together with an origin marker
//     ({prefix}crosscluster/origin/{policy|request}/{id}) in the same
//     transaction, so the copy and its marker share a ModRevision. A peer's
//     record whose marker has the same ModRevision is a copy the peer
//     received and is not taken; anything else is a local write at the peer.
//     The clusters must form a full mesh: every write reaches every cluster
//     straight from its origin, and nothing is ever forwarded, so there is
//     no loop and no ping-pong;
//   - the merge is deterministic: a policy with a higher version wins, then
//     the later update time, then the origin name; a request's status only
//     moves forward (pending_approval < approved < applied, rejected and
//     expired are final). The write is guarded by a compare on the local
//     record's ModRevision, so an older copy never overwrites a newer one.
//     When a peer sends an older value than the local one, the replicator
//     rewrites the local value with a "forward" marker, which makes it travel
//     once more so the peer (and everyone) ends on the same winner. The local
//     state a decision is made on comes from a cache of the local records,
//     kept up to date by the replicator's own commits; the guard catches a
//     stale guess, and a decision to do nothing is always confirmed by a
//     fresh read;
//   - request copies get their own lease with the source's remaining TTL;
//     the replicator maintains the pending sets from the requests it copies
//     (an entry while a request is pending_approval, none afterwards);
//   - a peer that fails is retried with exponential backoff and jitter; a
//     malformed record is logged, counted (Skipped, the errors metric) and
//     skipped, and the stream goes on.
//
// docs/REPLICATION.md explains each decision in full, including what the
// design leaves to the operator.
//
// Why not etcd's mirror.Syncer: it copies a prefix one way and knows
// nothing about origins, so two clusters mirroring each other loop; it
// keeps no durable checkpoint, so a restart copies everything again; and it
// has no merge rule, so the last copy wins instead of the newest version.
// The replicator uses the same etcd primitives (a revision-pinned list, a
// watch from the next revision) and adds those three things.
package crosscluster
