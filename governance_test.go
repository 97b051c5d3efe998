package baldur_test

import (
	"context"
	"testing"

	"github.com/baldur-go/baldur"
)

func TestNoOpGovernanceCheckerAnswers(t *testing.T) {
	ctx := context.Background()
	var g baldur.GovernanceChecker = baldur.NoOpGovernanceChecker{}
	level := 1
	checks := []baldur.GovernanceCheck{
		{},
		{OperationName: "rollout", ServiceName: "api", Domain: "d", TierID: "gold", Region: "eu", EmergencyMinLevel: &level, ResourceContext: map[string]any{"k": 1}},
		{SkipKillSwitch: true, SkipEmergency: true, SkipErrorBudget: true, NoAuditOnBlock: true},
	}
	want := baldur.GovernanceCheckResult{
		Allowed:            true,
		BlockReason:        baldur.BlockNone,
		BlockMessage:       "",
		EmergencyLevel:     "UNKNOWN",
		ErrorBudgetPercent: 100,
		ThresholdPercent:   0,
	}
	for _, c := range checks {
		got, err := g.CheckAllGovernance(ctx, c)
		if err != nil || got != want {
			t.Errorf("CheckAllGovernance(%+v) = %+v, %v; want %+v", c, got, err, want)
		}
	}
	if ok, err := g.IsSystemEnabled(ctx); !ok || err != nil {
		t.Errorf("IsSystemEnabled = %v, %v; want true", ok, err)
	}
	for _, min := range []*int{nil, &level} {
		blocked, name, err := g.IsEmergencyBlocking(ctx, min)
		if blocked || name != "UNKNOWN" || err != nil {
			t.Errorf("IsEmergencyBlocking = %v, %q, %v; want false, UNKNOWN", blocked, name, err)
		}
	}
	blocked, current, threshold, err := g.IsErrorBudgetBlocking(ctx, "gold", "eu")
	if blocked || current != 100 || threshold != 0 || err != nil {
		t.Errorf("IsErrorBudgetBlocking = %v, %v, %v, %v; want false, 100, 0", blocked, current, threshold, err)
	}
	g.InvalidateGovernanceCache()
	g.ResetGovernancePipelineCache()
}

func TestAllowedResultDefaults(t *testing.T) {
	r := baldur.AllowedResult()
	if !r.Allowed || r.BlockReason != "" || r.EmergencyLevel != baldur.EmergencyLevelUnknown || r.ErrorBudgetPercent != 100 || r.ThresholdPercent != 0 {
		t.Fatalf("AllowedResult() = %+v", r)
	}
}

func TestGovernanceCheckOperation(t *testing.T) {
	if got := (baldur.GovernanceCheck{}).Operation(); got != "unknown_operation" {
		t.Errorf("zero Operation() = %q", got)
	}
	if got := (baldur.GovernanceCheck{OperationName: "rollout"}).Operation(); got != "rollout" {
		t.Errorf("Operation() = %q", got)
	}
}

func TestBlockReasons(t *testing.T) {
	want := map[baldur.BlockReason]string{
		baldur.BlockNone:                   "",
		baldur.BlockKillSwitch:             "kill_switch",
		baldur.BlockEmergencyMode:          "emergency_mode",
		baldur.BlockErrorBudget:            "error_budget",
		baldur.BlockRateLimited:            "rate_limited",
		baldur.BlockManuallyBlocked:        "manually_blocked",
		baldur.BlockShadowEvaluationFailed: "shadow_evaluation_failed",
	}
	for r, s := range want {
		if string(r) != s {
			t.Errorf("block reason %q, want %q", r, s)
		}
	}
}
