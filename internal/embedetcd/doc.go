// Package embedetcd runs an etcd member inside the process, on top of
// go.etcd.io/etcd/server/v3/embed. The sync agent uses it to bring its own
// etcd; the tests use it (through internal/etcdtest) as the real server their
// stores talk to.
//
// The usual call path:
//
//	srv, err := embedetcd.Start(ctx, embedetcd.Config{Dir: dir, Logger: lg})
//	if err != nil { ... }
//	defer srv.Close()
//	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints()})
//
// # Decisions
//
// Lease checkpointing is always on (the LeaseCheckpoint and
// LeaseCheckpointPersist server features, see FeatureGates). Without it etcd
// resets every lease to its full TTL when the leader changes, so a record or
// a lock outlives its TTL by up to one TTL per election. With it the leader
// periodically writes each lease's remaining TTL through raft and a new
// leader resumes from there. etcd checkpoints every five minutes and only
// leases with more than five minutes left (embed does not expose the
// interval in v3.7.3), so a short lease can still be extended by a leader
// change; that is why the locks of the etcd backend are fenced as well.
// Operators who run their own etcd are told to set
// --feature-gates=LeaseCheckpoint=true,LeaseCheckpointPersist=true.
//
// Start waits for ReadyNotify, bounded by the context and by
// Config.StartTimeout, and closes the member if it does not become ready:
// the caller never owns a half-started server. A member of a new
// multi-member cluster only becomes ready once a quorum runs, so the members
// must be started concurrently.
//
// Ports: an empty ClientURL or PeerURL picks a free loopback port by
// listening on 127.0.0.1:0 and closing the listener. etcd's own port-0
// support is of no use here, because the advertised URLs (and, for a
// cluster, every peer's URL in InitialCluster) must be known before the
// member starts. The gap between the pick and etcd's bind is a race with
// other processes; Start retries with fresh ports on EADDRINUSE when it
// picked them itself.
//
// HardStop stops the raft node before the listeners, so a leader goes away
// without handing over leadership, as it would in a crash; Close is the
// graceful stop, in which etcd transfers leadership first. Both keep the
// data directory, and both wait for every goroutine of the member.
//
// Raft timings stay at etcd's defaults unless the caller sets them; tests
// may shorten them, production should not without measuring.
package embedetcd
