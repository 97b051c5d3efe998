package baldur

import (
	"context"
	"time"
)

// The service protocols below are the singletons the provider registry
// resolves. Library code depends on these interfaces; implementations are
// registered by the deployment. Each declares only the calls a caller needs.

// BlastRadiusManager bounds how much of a fleet a risky action may touch.
type BlastRadiusManager interface {
	// CheckBlastRadius reports whether acting on affected of total units of
	// scope stays within the configured limit, and the limit in percent.
	CheckBlastRadius(ctx context.Context, scope string, affected, total int) (allowed bool, limitPercent float64, err error)
	// CurrentExposure returns the share of scope, in percent, under an action.
	CurrentExposure(ctx context.Context, scope string) (float64, error)
}

// BulkheadStats is a snapshot of one bulkhead.
type BulkheadStats struct {
	Name          string
	MaxConcurrent int
	Active        int
	Queued        int
	Rejected      int64
}

// Bulkhead bounds concurrent calls into one dependency.
type Bulkhead interface {
	Name() string
	// Acquire waits for a slot (bounded by ctx) and returns its release
	// function; a full bulkhead whose queue is full returns ok == false.
	Acquire(ctx context.Context) (release func(), ok bool, err error)
	// TryAcquire takes a slot only if one is free now.
	TryAcquire() (release func(), ok bool)
	Stats() BulkheadStats
}

// BulkheadRegistry owns the named bulkheads.
type BulkheadRegistry interface {
	// Get returns the named bulkhead or ErrNotFound.
	Get(name string) (Bulkhead, error)
	// GetOrCreate returns the named bulkhead, creating it with maxConcurrent
	// slots and maxQueue waiters.
	GetOrCreate(name string, maxConcurrent, maxQueue int) (Bulkhead, error)
	// All returns every bulkhead's stats, sorted by name.
	All() []BulkheadStats
}

// CanaryState is the stage of a canary rollout.
type CanaryState string

// Canary rollout states.
const (
	CanaryPending    CanaryState = "pending"
	CanaryRunning    CanaryState = "canary"
	CanaryPaused     CanaryState = "paused"
	CanaryPromoted   CanaryState = "promoted"
	CanaryRolledBack CanaryState = "rolled_back"
	CanaryFailed     CanaryState = "failed"
)

// Terminal reports whether no further transition follows the state.
func (s CanaryState) Terminal() bool {
	return s == CanaryPromoted || s == CanaryRolledBack || s == CanaryFailed
}

// CanaryRollout is one rollout as the orchestration service exposes it.
type CanaryRollout interface {
	ID() string
	ConfigType() string
	State() CanaryState
	CreatedAt() time.Time
	// PausedAt is when the rollout entered paused; zero when it is not.
	PausedAt() time.Time
	// StageStartedAt is when the current stage's config was applied; zero
	// for rollouts that predate it (CreatedAt is the fallback anchor).
	StageStartedAt() time.Time
}

// CanaryRolloutService orchestrates canary config rollouts.
type CanaryRolloutService interface {
	// Start begins a rollout of newValues for configType and takes its lock.
	Start(ctx context.Context, configType string, newValues Record, changedBy, reason string) (CanaryRollout, error)
	// Get returns a rollout or ErrNotFound.
	Get(ctx context.Context, id string) (CanaryRollout, error)
	// Active returns the active rollouts.
	Active(ctx context.Context) ([]CanaryRollout, error)
	// Advance moves a rollout to its next stage, or promotes it at the end.
	Advance(ctx context.Context, id string) (CanaryRollout, error)
	Pause(ctx context.Context, id, reason string) (CanaryRollout, error)
	Resume(ctx context.Context, id string) (CanaryRollout, error)
	// Rollback restores the previous values and releases the config lock.
	Rollback(ctx context.Context, id, reason string) (CanaryRollout, error)
}

// ChaosScheduler runs chaos experiments on schedule.
type ChaosScheduler interface {
	// Schedule registers an experiment to run at at; returns its id.
	Schedule(ctx context.Context, experiment Record, at time.Time) (string, error)
	// Cancel drops a scheduled or running experiment.
	Cancel(ctx context.Context, id string) error
	// Scheduled lists experiments that have not yet run.
	Scheduled(ctx context.Context) ([]Record, error)
}

// ReportGenerator turns a finished chaos experiment into a report.
type ReportGenerator interface {
	Generate(ctx context.Context, experimentID string) (Record, error)
}

// SafetyGuard decides whether a chaos experiment may start or must stop.
type SafetyGuard interface {
	// CanStart returns whether the experiment may start and, if not, why.
	CanStart(ctx context.Context, experiment Record) (ok bool, reason string, err error)
	// ShouldAbort is polled while an experiment runs; true stops it.
	ShouldAbort(ctx context.Context, experimentID string) (abort bool, reason string, err error)
}

// DLQEntry is one dead-lettered message.
type DLQEntry struct {
	ID        string
	Queue     string
	Payload   Record
	Error     string
	Attempts  int
	CreatedAt time.Time
}

// DLQRepository persists dead-lettered messages.
type DLQRepository interface {
	Add(ctx context.Context, e DLQEntry) error
	Get(ctx context.Context, id string) (DLQEntry, error)
	List(ctx context.Context, queue string, limit int) ([]DLQEntry, error)
	Delete(ctx context.Context, id string) error
	Count(ctx context.Context, queue string) (int, error)
}

// DLQService retries and purges dead-lettered messages.
type DLQService interface {
	// Send dead-letters a failed message and returns its id.
	Send(ctx context.Context, queue string, payload Record, cause error) (string, error)
	// Retry re-dispatches one entry; it leaves the DLQ when that succeeds.
	Retry(ctx context.Context, id string) error
	// Purge removes entries older than olderThan and returns how many.
	Purge(ctx context.Context, queue string, olderThan time.Duration) (int, error)
}

// EmergencyState is the emergency mode as the manager sees it.
type EmergencyState struct {
	Level       int
	LevelName   string
	Reason      string
	ActivatedAt time.Time
	Automatic   bool
}

// EmergencyManager owns the emergency mode level.
type EmergencyManager interface {
	CurrentLevel(ctx context.Context) (int, string, error)
	State(ctx context.Context) (EmergencyState, error)
	// ActivateAuto raises the level on a detected condition; it never lowers
	// a level an operator set.
	ActivateAuto(ctx context.Context, level int, reason string) error
}

// ErrorBudgetGate answers whether the error budget allows risky changes.
type ErrorBudgetGate interface {
	IsBlocking(ctx context.Context, tierID, region string) (blocked bool, currentPercent, thresholdPercent float64, err error)
}

// ErrorBudgetService tracks SLO error budgets.
type ErrorBudgetService interface {
	// Record counts one request outcome against the service's budget.
	Record(ctx context.Context, service string, success bool) error
	// Remaining returns the budget left, in percent.
	Remaining(ctx context.Context, service string) (float64, error)
}

// LearningService learns thresholds from observed behaviour.
type LearningService interface {
	Observe(ctx context.Context, signal string, value float64) error
	// Recommend returns the learned value for a signal and the confidence.
	Recommend(ctx context.Context, signal string) (value, confidence float64, err error)
}

// SelfhealerWatchdog watches for stalled rollouts and stuck recoveries.
type SelfhealerWatchdog interface {
	// Sweep inspects everything once and returns how many items it healed.
	Sweep(ctx context.Context) (int, error)
	LastSweep() time.Time
}

// DistributedRecoveryLock guards one recovery action across processes.
type DistributedRecoveryLock interface {
	// Acquire takes the lock for ttl; false when someone else holds it.
	Acquire(ctx context.Context, key, owner string, ttl time.Duration) (bool, error)
	Release(ctx context.Context, key, owner string) (bool, error)
}

// IdempotencyStatus is the life stage of an idempotent step.
type IdempotencyStatus string

// Idempotency statuses.
const (
	IdempotencyStarted   IdempotencyStatus = "started"
	IdempotencyCompleted IdempotencyStatus = "completed"
	IdempotencyFailed    IdempotencyStatus = "failed"
)

// IdempotencyRecord carries an idempotency key and its step's status.
type IdempotencyRecord interface {
	Key() string
	Step() string
	Status() IdempotencyStatus
	UpdatedAt() time.Time
}

// Notification is one message for the notification manager.
type Notification struct {
	Channel  string // "" for the default routing
	Severity string
	Title    string
	Body     string
	Metadata map[string]any
}

// UnifiedNotificationManager dispatches notifications to their channels.
type UnifiedNotificationManager interface {
	// Notify sends n and returns the channels that accepted it.
	Notify(ctx context.Context, n Notification) ([]string, error)
}
