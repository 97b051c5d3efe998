// Package baldur holds the contracts of Baldur's control-plane state in Go:
// the four domain state stores (canary rollouts, chaos experiments, config
// history, cross-cluster propagation), the health and session providers, the
// governance and admin-identity contracts, the service protocols the provider
// registry resolves, and the small pieces every backend shares (Record, the
// sentinel errors, id and TTL validation, JSON encoding of records).
//
// Backends live in their own packages: memstore (in memory, one process) and
// etcdstore (etcd, consistent across processes and fenced). Every backend
// passes the one conformance suite in storetest. The behaviour of each method
// is fixed by CONTRACT.md; the short version:
//
//   - Every method takes a context.Context first and returns an error last.
//     An error means the backend could not answer (unreachable, timed out,
//     cancelled, quota). Domain outcomes such as a version conflict or a lock
//     held by someone else are bool results, never errors.
//   - A record that is absent or expired is ErrNotFound; bad input is
//     ErrInvalidArgument and nothing is written. Test both with errors.Is.
//   - Records are JSON objects. Stores keep them as compact JSON and hand out
//     fresh copies: mutating a returned Record never changes the store.
//     Numbers come back as int64 when they are integers and float64 otherwise.
//
// A typical call path, with the in-memory backend:
//
//	s := memstore.New()
//	ok, err := s.Canary().SaveRollout(ctx, "r1", baldur.Record{"version": 1}, time.Hour, nil)
//	rec, err := s.Canary().GetRollout(ctx, "r1")
//	next := baldur.VersionOf(rec) + 1
package baldur
