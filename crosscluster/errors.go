package crosscluster

import "errors"

// Sentinel errors of the propagation workflow. Callers branch on them with
// errors.Is; the returned errors wrap them with the request id and, for a
// missing request, also wrap baldur.ErrNotFound.
var (
	// ErrRequestNotFound: no propagation request with that id (never created,
	// or gone after its 7-day store TTL).
	ErrRequestNotFound = errors.New("crosscluster: propagation request not found")
	// ErrNotPending: the request is no longer pending_approval (already
	// approved, applied, rejected or expired).
	ErrNotPending = errors.New("crosscluster: propagation request is not pending approval")
	// ErrRequestExpired: the request passed its expires_at (24 h after
	// creation) before it was approved or rejected; it is marked expired.
	ErrRequestExpired = errors.New("crosscluster: propagation request has expired")
	// ErrNotTarget: the request targets another cluster; only the target
	// cluster approves or rejects it.
	ErrNotTarget = errors.New("crosscluster: propagation request targets another cluster")
	// ErrInvalidPolicy: a governance policy record is malformed (wrong
	// types, missing id or config type, min above max). It also wraps
	// baldur.ErrInvalidArgument.
	ErrInvalidPolicy = errors.New("crosscluster: invalid governance policy")
)
