package baldur

import "errors"

// Sentinel errors. Callers branch on them with errors.Is; backends wrap them
// with %w and add the id, key or size that was wrong.
var (
	// ErrNotFound: the record is absent or has expired.
	ErrNotFound = errors.New("baldur: not found")
	// ErrInvalidArgument: an id, TTL, pattern or record was rejected before
	// anything was written.
	ErrInvalidArgument = errors.New("baldur: invalid argument")
	// ErrAdapterNotFound: the provider registry has no registration under
	// that name.
	ErrAdapterNotFound = errors.New("baldur: adapter not found")
	// ErrTooLarge: the backend refused a record or a transaction as too
	// large (etcd's request size or operation limits). Nothing was written.
	ErrTooLarge = errors.New("baldur: too large")
	// ErrQuotaExceeded: the backend is out of space (etcd's NOSPACE alarm).
	// Nothing was written.
	ErrQuotaExceeded = errors.New("baldur: quota exceeded")
	// ErrClosed: the store, provider or agent was closed.
	ErrClosed = errors.New("baldur: closed")
)
