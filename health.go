package baldur

import "context"

// DefaultAlias is the alias of the connection a health provider checks when
// none is named.
const DefaultAlias = "default"

// DatabaseConnectionInfo is what a health check learns of one connection.
type DatabaseConnectionInfo struct {
	Alias    string
	Vendor   string // "unknown" when the provider cannot tell
	IsUsable bool
	Metadata map[string]any
}

// DatabaseHealthProvider reports on the backend connections a process holds.
type DatabaseHealthProvider interface {
	// CheckConnection checks one alias. An unusable connection is reported
	// with IsUsable false and a nil error; an unknown alias is ErrNotFound.
	CheckConnection(ctx context.Context, alias string) (DatabaseConnectionInfo, error)
	// ListAliases returns the configured aliases, sorted.
	ListAliases(ctx context.Context) ([]string, error)
	// CloseAll closes the connections the provider owns.
	CloseAll(ctx context.Context) error
}

// HealthCheck reports whether the provider's default connection is usable;
// suitable as a callback for a connection health monitor.
func HealthCheck(ctx context.Context, p DatabaseHealthProvider) bool {
	info, err := p.CheckConnection(ctx, DefaultAlias)
	return err == nil && info.IsUsable
}

// SessionInvalidationProvider invalidates user sessions across backends.
type SessionInvalidationProvider interface {
	// InvalidateUserSessions removes every active session of the user and
	// returns one description per backend for audit logs, such as
	// "etcd_sessions(2)".
	InvalidateUserSessions(ctx context.Context, userID string) ([]string, error)
	// GetActiveSessionCount counts the user's active sessions.
	GetActiveSessionCount(ctx context.Context, userID string) (int, error)
}
