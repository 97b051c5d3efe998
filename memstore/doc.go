// Package memstore keeps the four domain state stores of package baldur
// (canary rollouts, chaos experiments, config history, cross-cluster
// propagation) in the memory of one process.
//
// It is for single-process deployments, where nothing else needs to see the
// state and losing it on restart is acceptable, and for unit tests of code
// that uses the stores. It is not a stand-in for etcd in tests that claim to
// test etcd: use etcdstore with an embedded server for that. memstore passes
// the same conformance suite (storetest) as every other backend, so code
// written against it behaves the same on etcdstore.
//
// The usual call path:
//
//	s := memstore.New()
//	canary := s.Canary()
//	ok, err := canary.SaveRollout(ctx, "r1", baldur.Record{"version": 1}, time.Hour, nil)
//	rec, err := canary.GetRollout(ctx, "r1")
//	v := baldur.VersionOf(rec)
//	ok, err = canary.SaveRollout(ctx, "r1", baldur.Record{"version": v + 1}, time.Hour, &v)
//
// # Records
//
// A record is stored as its compact JSON encoding (baldur.EncodeRecord) and
// decoded afresh on every read (baldur.DecodeRecord), so the caller's map is
// never kept and every returned map, nested maps and slices included, is the
// caller's own. A value JSON cannot encode (a channel, a function, NaN, ±Inf)
// is baldur.ErrInvalidArgument and nothing is written. Integers read back as
// int64, other numbers as float64, exactly as from etcdstore. Ids, config
// types and cluster names go through baldur.ValidateID before anything else.
//
// # Concurrency
//
// One mutex guards the whole store. Every method makes its decision and its
// change under it, so each method is atomic and linearizable: of concurrent
// SaveRollout calls with the same expected version exactly one wins,
// NextVersion hands out 1..N to N callers, and SaveVersion updates history
// and current version in one step (the current version is simply the head of
// the history, so they cannot disagree). Reads take the stored JSON under
// the lock and decode it after releasing it, which is safe because stored
// bytes are never mutated (a write stores a new slice); the lock is held for
// map work only, never for I/O or decoding. A context that is already done
// is reported as an error and nothing is done.
//
// # Time, TTLs and purging
//
// Time comes from a clockwork.Clock (github.com/jonboulle/clockwork): the
// wall clock by default, a fake clock with WithClock, so that tests Advance
// time instead of sleeping. clockwork is used rather than a home-made clock
// interface because it is the common one in Go (etcd and Kubernetes tests use
// it) and its FakeClock is already concurrency-safe.
//
// A record with a TTL (rollouts, experiments, propagation requests) and every
// config lock carries a deadline, now + TTL, in nanosecond precision; it is
// visible strictly before its deadline and never at or after it. All
// deadlines live in one min-heap. Each deadline knows its slot in the heap,
// so a rewrite moves it (heap.Fix) and a delete or release takes it out
// (heap.Remove): the heap holds exactly one deadline per live entry and never
// a stale one. Every call, read or write, first pops and deletes everything
// whose deadline has passed, in O(k log n) for k expired entries, so reads
// never see an expired entry and expired entries are freed by the next call
// instead of leaking. There is no background goroutine, hence no Close: a
// store nobody calls holds its expired entries until it is called again or
// dropped.
//
// The active set, the pending sets, the config history and the governance
// policies have no TTL. An empty pending set is removed with its last id.
package memstore
