// Package etcdtest starts real embedded etcd servers for tests: a single
// member (NewMember) or a statically bootstrapped cluster (NewCluster), on
// free loopback ports, with data in t.TempDir(), logging at error level
// through zaptest, and everything closed by t.Cleanup.
//
//	c := etcdtest.NewCluster(t, 3)
//	store, err := etcdstore.New(c.Client(), etcdstore.WithPrefix(etcdtest.Prefix(t)))
//	...
//	leader, err := c.WaitLeader(ctx)
//	c.Stop(leader)    // hard stop: no leadership hand-over, data kept
//	c.Restart(leader) // same data directory and ports
//
// # Decisions
//
// Ports are picked by listening on 127.0.0.1:0 and closing the listener
// (embedetcd.FreePort); a cluster's peer URLs must be known before any
// member starts. When a picked port was taken in between, the whole start
// is retried with fresh ports. Restart needs the same ports and waits for
// them instead.
//
// The members of a new cluster start concurrently, because each becomes
// ready only once a quorum runs; NewCluster then waits until the running
// members agree on a leader, so a test starts against a settled cluster.
//
// Members run with fsync off (embedetcd.Config.UnsafeNoFsync) unless
// WithFsync is given: tests check semantics, a stopped member keeps its
// data because the process and its page cache survive, and fsync latency on
// a disk shared by many test processes would dominate the run time.
// Benchmarks that publish figures turn fsync on. Raft timings are etcd's
// defaults, so elections look like production ones.
//
// Helpers call t.Fatal, so call them from the test's goroutine. Leader and
// WaitLeader are safe from any goroutine.
package etcdtest
