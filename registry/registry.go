package registry

import (
	"context"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/config"
)

// NoOpGovernance is the name under which New registers
// baldur.NoOpGovernanceChecker, the default governance checker.
const NoOpGovernance = "noop"

// Registry holds one slot per contract a deployment provides. Build one with
// New and keep it where the application keeps its wiring; there is no
// package-level registry. The slots are safe for concurrent use.
type Registry struct {
	// Governance starts with baldur.NoOpGovernanceChecker registered as
	// "noop", the default: callers may check governance unconditionally.
	Governance    *Slot[baldur.GovernanceChecker]
	AdminIdentity *Slot[baldur.AdminIdentityResolver]
	RuntimeConfig *Slot[baldur.RuntimeConfigManager]
	Config        *Slot[config.ConfigProvider]
	Sessions      *Slot[baldur.SessionInvalidationProvider]
	Health        *Slot[baldur.DatabaseHealthProvider]

	// The domain state stores.
	CanaryStore   *Slot[baldur.CanaryRolloutStore]
	ChaosStore    *Slot[baldur.ChaosExperimentStore]
	ConfigHistory *Slot[baldur.ConfigHistoryStore]
	CrossCluster  *Slot[baldur.CrossClusterStore]

	// The service protocols.
	BlastRadius     *Slot[baldur.BlastRadiusManager]
	Bulkheads       *Slot[baldur.BulkheadRegistry]
	CanaryRollouts  *Slot[baldur.CanaryRolloutService]
	ChaosScheduler  *Slot[baldur.ChaosScheduler]
	ChaosReports    *Slot[baldur.ReportGenerator]
	ChaosSafety     *Slot[baldur.SafetyGuard]
	DLQRepository   *Slot[baldur.DLQRepository]
	DLQ             *Slot[baldur.DLQService]
	Emergency       *Slot[baldur.EmergencyManager]
	ErrorBudgetGate *Slot[baldur.ErrorBudgetGate]
	ErrorBudget     *Slot[baldur.ErrorBudgetService]
	Learning        *Slot[baldur.LearningService]
	Watchdog        *Slot[baldur.SelfhealerWatchdog]
	RecoveryLock    *Slot[baldur.DistributedRecoveryLock]
	Notifications   *Slot[baldur.UnifiedNotificationManager]
}

// New returns a registry with every slot empty but Governance, which has
// the no-op checker as its default.
func New() *Registry {
	r := &Registry{
		Governance:    NewSlot[baldur.GovernanceChecker]("governance"),
		AdminIdentity: NewSlot[baldur.AdminIdentityResolver]("admin_identity"),
		RuntimeConfig: NewSlot[baldur.RuntimeConfigManager]("runtime_config"),
		Config:        NewSlot[config.ConfigProvider]("config"),
		Sessions:      NewSlot[baldur.SessionInvalidationProvider]("sessions"),
		Health:        NewSlot[baldur.DatabaseHealthProvider]("health"),

		CanaryStore:   NewSlot[baldur.CanaryRolloutStore]("canary_store"),
		ChaosStore:    NewSlot[baldur.ChaosExperimentStore]("chaos_store"),
		ConfigHistory: NewSlot[baldur.ConfigHistoryStore]("config_history"),
		CrossCluster:  NewSlot[baldur.CrossClusterStore]("cross_cluster"),

		BlastRadius:     NewSlot[baldur.BlastRadiusManager]("blast_radius"),
		Bulkheads:       NewSlot[baldur.BulkheadRegistry]("bulkheads"),
		CanaryRollouts:  NewSlot[baldur.CanaryRolloutService]("canary_rollouts"),
		ChaosScheduler:  NewSlot[baldur.ChaosScheduler]("chaos_scheduler"),
		ChaosReports:    NewSlot[baldur.ReportGenerator]("chaos_reports"),
		ChaosSafety:     NewSlot[baldur.SafetyGuard]("chaos_safety"),
		DLQRepository:   NewSlot[baldur.DLQRepository]("dlq_repository"),
		DLQ:             NewSlot[baldur.DLQService]("dlq"),
		Emergency:       NewSlot[baldur.EmergencyManager]("emergency"),
		ErrorBudgetGate: NewSlot[baldur.ErrorBudgetGate]("error_budget_gate"),
		ErrorBudget:     NewSlot[baldur.ErrorBudgetService]("error_budget"),
		Learning:        NewSlot[baldur.LearningService]("learning"),
		Watchdog:        NewSlot[baldur.SelfhealerWatchdog]("watchdog"),
		RecoveryLock:    NewSlot[baldur.DistributedRecoveryLock]("recovery_lock"),
		Notifications:   NewSlot[baldur.UnifiedNotificationManager]("notifications"),
	}
	r.registerDefaults()
	return r
}

func (r *Registry) registerDefaults() {
	r.Governance.Register(NoOpGovernance, func(context.Context) (baldur.GovernanceChecker, error) {
		return baldur.NoOpGovernanceChecker{}, nil
	})
}

// slots lists every slot, for the registry-wide operations.
func (r *Registry) slots() []interface {
	ClearInstances()
	Reset()
} {
	return []interface {
		ClearInstances()
		Reset()
	}{
		r.Governance, r.AdminIdentity, r.RuntimeConfig, r.Config, r.Sessions, r.Health,
		r.CanaryStore, r.ChaosStore, r.ConfigHistory, r.CrossCluster,
		r.BlastRadius, r.Bulkheads, r.CanaryRollouts, r.ChaosScheduler, r.ChaosReports,
		r.ChaosSafety, r.DLQRepository, r.DLQ, r.Emergency, r.ErrorBudgetGate,
		r.ErrorBudget, r.Learning, r.Watchdog, r.RecoveryLock, r.Notifications,
	}
}

// ClearInstances drops the built instances of every slot and keeps the
// registrations.
func (r *Registry) ClearInstances() {
	for _, s := range r.slots() {
		s.ClearInstances()
	}
}

// Reset drops every registration and instance and puts back what New
// registers (the no-op governance checker), as a fresh registry would have.
func (r *Registry) Reset() {
	for _, s := range r.slots() {
		s.Reset()
	}
	r.registerDefaults()
}
