package baldur

import (
	"context"
	"time"
)

// RequestUpdater is an optional extension of CrossClusterStore: an atomic
// read-modify-write of one propagation request. A consumer finds it with a
// type assertion (store.(RequestUpdater)) and falls back to GetRequest plus
// SaveRequest, which are not atomic together, when the store lacks it.
type RequestUpdater interface {
	// UpdateRequest reads the request, calls fn with a copy of it and writes
	// fn's record with fn's TTL (a fresh TTL, as SaveRequest), but only if
	// the request has not been written since it was read. On such a conflict
	// it reads the request again and calls fn again, so fn may run several
	// times and must not have side effects that cannot be repeated. It
	// returns a copy of the record it wrote.
	//
	// fn returning an error aborts the update: nothing is written and that
	// error is returned unwrapped. An absent or expired request is
	// ErrNotFound and fn is not called (also when it vanishes during a
	// retry). An invalid id, or a record or TTL from fn that SaveRequest
	// would refuse, is ErrInvalidArgument and nothing is written. fn must not
	// call the store.
	UpdateRequest(ctx context.Context, id string, fn func(current Record) (next Record, ttl time.Duration, err error)) (Record, error)
}
