package baldur

import (
	"context"
	"time"
)

// CanaryRolloutStore keeps canary rollout state and the per-config-type
// rollout locks. See CONTRACT.md for every edge case.
type CanaryRolloutStore interface {
	// GetRollout returns the rollout, or ErrNotFound when absent or expired.
	GetRollout(ctx context.Context, id string) (Record, error)
	// SaveRollout writes the whole record with a fresh TTL. With a nil
	// expectedVersion the write is unconditional and returns true. Otherwise
	// it returns false, writing nothing, when the record is absent, expired,
	// or its stored "version" (0 when missing) differs from *expectedVersion.
	// The store never changes "version": the caller writes the next one.
	SaveRollout(ctx context.Context, id string, data Record, ttl time.Duration, expectedVersion *int64) (bool, error)
	// GetActiveIDs returns the active set, sorted. The set has no TTL.
	GetActiveIDs(ctx context.Context) ([]string, error)
	// AddActive adds id to the active set; idempotent.
	AddActive(ctx context.Context, id string) error
	// RemoveActive removes id from the active set, keeping the rollout
	// record; idempotent.
	RemoveActive(ctx context.Context, id string) error
	// FindCompleted returns every unexpired rollout whose id matches the glob
	// (path.Match syntax, "*" for all), in any state, sorted by id.
	FindCompleted(ctx context.Context, pattern string) ([]Record, error)
	// AcquireConfigLock takes the lock on configType for rolloutID if nobody
	// holds a live one. Not re-entrant. timeout 0 means DefaultLockTimeout.
	AcquireConfigLock(ctx context.Context, configType, rolloutID string, timeout time.Duration) (bool, error)
	// ReleaseConfigLock deletes the lock if rolloutID holds it (atomically).
	ReleaseConfigLock(ctx context.Context, configType, rolloutID string) (bool, error)
	// GetConfigLockOwner returns the owner of the live lock, "" if unlocked.
	GetConfigLockOwner(ctx context.Context, configType string) (string, error)
	// IsConfigLocked reports whether the config type has a live lock.
	IsConfigLocked(ctx context.Context, configType string) (bool, error)
	// ForceReleaseConfigLock removes a live lock whoever holds it; true only
	// if a live lock was removed.
	ForceReleaseConfigLock(ctx context.Context, configType string) (bool, error)
	// ExtendConfigLock resets the owner's deadline to now + additional (0
	// means DefaultLockTimeout). It never adds up and may shorten. Anyone
	// other than the owner of a live lock gets false.
	ExtendConfigLock(ctx context.Context, configType, rolloutID string, additional time.Duration) (bool, error)
}

// ChaosExperimentStore keeps chaos experiments.
type ChaosExperimentStore interface {
	// Save overwrites the experiment and resets its TTL.
	Save(ctx context.Context, id string, data Record, ttl time.Duration) error
	// Get returns the experiment, or ErrNotFound when absent or expired.
	Get(ctx context.Context, id string) (Record, error)
	// Delete removes the experiment; idempotent.
	Delete(ctx context.Context, id string) error
	// FindActive returns every unexpired experiment whose "status" is
	// exactly "active", sorted by id.
	FindActive(ctx context.Context) ([]Record, error)
}

// ConfigHistoryStore keeps versioned configuration history per config type.
type ConfigHistoryStore interface {
	// NextVersion atomically increments and returns the per-type counter
	// (1, 2, 3, ...). It is independent of the history.
	NextVersion(ctx context.Context, configType string) (int64, error)
	// SaveVersion, in one atomic step, puts versionData at the head of the
	// history, keeps only the newest maxEntries (<= 0: all) and makes it the
	// current version. Last write wins; versions are not checked.
	SaveVersion(ctx context.Context, configType string, versionData Record, maxEntries int) error
	// GetCurrent returns the current version, or ErrNotFound.
	GetCurrent(ctx context.Context, configType string) (Record, error)
	// GetHistory returns at most limit entries (<= 0: all), newest first.
	// An unknown type has an empty history.
	GetHistory(ctx context.Context, configType string, limit int) ([]Record, error)
	// GetVersionCount returns how many entries are kept.
	GetVersionCount(ctx context.Context, configType string) (int, error)
	// Clear removes counter, history and current of that type only.
	Clear(ctx context.Context, configType string) error
}

// CrossClusterStore keeps propagation requests, the per-cluster pending
// sets and governance policies.
type CrossClusterStore interface {
	// SaveRequest overwrites a propagation request with a fresh TTL.
	SaveRequest(ctx context.Context, id string, data Record, ttl time.Duration) error
	// GetRequest returns the request, or ErrNotFound when absent or expired.
	GetRequest(ctx context.Context, id string) (Record, error)
	// AddPending adds id to cluster's pending set; idempotent, no TTL.
	AddPending(ctx context.Context, cluster, id string) error
	// RemovePending removes id from cluster's pending set; idempotent.
	RemovePending(ctx context.Context, cluster, id string) error
	// GetPendingIDs returns cluster's pending set, sorted.
	GetPendingIDs(ctx context.Context, cluster string) ([]string, error)
	// SavePolicy overwrites a governance policy (no TTL).
	SavePolicy(ctx context.Context, id string, data Record) error
	// GetPolicy returns the policy, or ErrNotFound.
	GetPolicy(ctx context.Context, id string) (Record, error)
	// ListPolicies returns every policy, sorted by id.
	ListPolicies(ctx context.Context) ([]Record, error)
}
