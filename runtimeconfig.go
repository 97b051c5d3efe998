package baldur

import "context"

// RuntimeConfigManager is the runtime configuration manager the registry
// resolves: sections of live configuration, reloaded and versioned by
// generation, and the approval flow for changes. Only the calls that library
// code makes are declared here.
type RuntimeConfigManager interface {
	// GetConfig returns one section ("chaos", "circuit_breaker", "dlq",
	// "error_budget", "governance", "rate_limit", "retry", ...). An unknown
	// section is empty, not an error.
	GetConfig(ctx context.Context, section string) (map[string]any, error)
	// GetAllConfig returns every section by name.
	GetAllConfig(ctx context.Context) (map[string]map[string]any, error)
	// ReloadSection re-reads a section from its source and returns it.
	ReloadSection(ctx context.Context, section string) (map[string]any, error)
	// SectionGeneration increases each time the section's values change, so
	// a holder can tell whether its copy is stale.
	SectionGeneration(ctx context.Context, section string) (int64, error)
	// ApplyConfigValues changes values of a section on behalf of changedBy.
	ApplyConfigValues(ctx context.Context, section string, values map[string]any, changedBy, reason string) error
	// ApprovalRequests lists change requests, filtered by status when it is
	// not empty.
	ApprovalRequests(ctx context.Context, status string) ([]Record, error)
	// ExpireOldRequests marks overdue requests expired and returns how many.
	ExpireOldRequests(ctx context.Context) (int, error)
}
