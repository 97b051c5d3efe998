package baldur

import "context"

// BlockReason says which governance gate blocked an operation.
type BlockReason string

// The block reasons; BlockNone when the operation is allowed.
const (
	BlockNone                   BlockReason = ""
	BlockKillSwitch             BlockReason = "kill_switch"
	BlockEmergencyMode          BlockReason = "emergency_mode"
	BlockErrorBudget            BlockReason = "error_budget"
	BlockRateLimited            BlockReason = "rate_limited"
	BlockManuallyBlocked        BlockReason = "manually_blocked"
	BlockShadowEvaluationFailed BlockReason = "shadow_evaluation_failed"
)

// EmergencyLevelUnknown is the emergency level reported when none is known.
const EmergencyLevelUnknown = "UNKNOWN"

// GovernanceCheckResult aggregates every gate's answer.
type GovernanceCheckResult struct {
	Allowed            bool
	BlockReason        BlockReason
	BlockMessage       string
	EmergencyLevel     string  // EmergencyLevelUnknown by default
	ErrorBudgetPercent float64 // 100 by default
	ThresholdPercent   float64 // 0 by default
}

// AllowedResult is the result of a check that nothing blocked, with the
// contract's defaults.
func AllowedResult() GovernanceCheckResult {
	return GovernanceCheckResult{
		Allowed:            true,
		EmergencyLevel:     EmergencyLevelUnknown,
		ErrorBudgetPercent: 100,
	}
}

// GovernanceCheck is one request to CheckAllGovernance. The zero value runs
// every gate (kill switch, emergency, error budget) and audits on block; the
// Skip fields turn gates off.
type GovernanceCheck struct {
	SkipKillSwitch  bool
	SkipEmergency   bool
	SkipErrorBudget bool
	// EmergencyMinLevel, when set, is the lowest emergency level that blocks;
	// nil uses the checker's configured level.
	EmergencyMinLevel *int
	// OperationName names the guarded operation; "" reads as
	// "unknown_operation".
	OperationName string
	ServiceName   string
	Domain        string
	// NoAuditOnBlock suppresses the audit record written when a gate blocks.
	NoAuditOnBlock  bool
	TierID          string
	Region          string
	ResourceContext map[string]any
}

// Operation returns OperationName, or "unknown_operation" when empty.
func (c GovernanceCheck) Operation() string {
	if c.OperationName == "" {
		return "unknown_operation"
	}
	return c.OperationName
}

// GovernanceChecker evaluates the governance gates.
type GovernanceChecker interface {
	// CheckAllGovernance runs every enabled gate and aggregates the result.
	CheckAllGovernance(ctx context.Context, check GovernanceCheck) (GovernanceCheckResult, error)
	// IsSystemEnabled is false while the kill switch is active.
	IsSystemEnabled(ctx context.Context) (bool, error)
	// IsEmergencyBlocking returns whether the current emergency level blocks
	// (at or above minLevel, or the configured level when nil) and its name.
	IsEmergencyBlocking(ctx context.Context, minLevel *int) (blocked bool, level string, err error)
	// IsErrorBudgetBlocking returns whether the error budget blocks, the
	// current budget left and the blocking threshold, both in percent.
	IsErrorBudgetBlocking(ctx context.Context, tierID, region string) (blocked bool, currentPercent, thresholdPercent float64, err error)
	// InvalidateGovernanceCache drops cached evaluations so a state change
	// (kill switch, emergency level, budget) is seen at once.
	InvalidateGovernanceCache()
	// ResetGovernancePipelineCache rebuilds the cached pipeline profiles.
	ResetGovernancePipelineCache()
}

// NoOpGovernanceChecker is the default checker when no governance pipeline is
// installed: it allows everything.
type NoOpGovernanceChecker struct{}

var _ GovernanceChecker = NoOpGovernanceChecker{}

// CheckAllGovernance allows the operation.
func (NoOpGovernanceChecker) CheckAllGovernance(context.Context, GovernanceCheck) (GovernanceCheckResult, error) {
	return AllowedResult(), nil
}

// IsSystemEnabled returns true.
func (NoOpGovernanceChecker) IsSystemEnabled(context.Context) (bool, error) { return true, nil }

// IsEmergencyBlocking returns (false, "UNKNOWN").
func (NoOpGovernanceChecker) IsEmergencyBlocking(context.Context, *int) (bool, string, error) {
	return false, EmergencyLevelUnknown, nil
}

// IsErrorBudgetBlocking returns (false, 100, 0).
func (NoOpGovernanceChecker) IsErrorBudgetBlocking(context.Context, string, string) (bool, float64, float64, error) {
	return false, 100, 0, nil
}

// InvalidateGovernanceCache does nothing.
func (NoOpGovernanceChecker) InvalidateGovernanceCache() {}

// ResetGovernancePipelineCache does nothing.
func (NoOpGovernanceChecker) ResetGovernancePipelineCache() {}
