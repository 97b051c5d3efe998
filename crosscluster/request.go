package crosscluster

import (
	"time"
)

// Request statuses. A request only moves forward: pending_approval, then
// approved, then applied; rejected and expired are final.
const (
	StatusPendingApproval = "pending_approval"
	StatusApproved        = "approved"
	StatusApplied         = "applied"
	StatusRejected        = "rejected"
	StatusExpired         = "expired"
)

// RequestExpiry is how long a request can be approved after its creation.
const RequestExpiry = 24 * time.Hour

// RequestTTL is how long the store keeps a request.
const RequestTTL = 7 * 24 * time.Hour

// ConfigChange is the change a propagation request carries to its target.
type ConfigChange struct {
	ConfigType    string  // config_type; required, a valid id
	PreviousValue any     // previous_value
	NewValue      any     // new_value
	ChangedBy     string  // changed_by
	ChangedAt     float64 // changed_at, epoch seconds; 0 means now
	RolloutID     string  // rollout_id
	Reason        string  // reason
}

func (c ConfigChange) record() map[string]any {
	return map[string]any{
		"config_type":    c.ConfigType,
		"previous_value": c.PreviousValue,
		"new_value":      c.NewValue,
		"changed_by":     c.ChangedBy,
		"changed_at":     c.ChangedAt,
		"rollout_id":     c.RolloutID,
		"reason":         c.Reason,
	}
}

// statusRank orders statuses for the replication merge: a copy with a higher
// rank replaces a lower one. The final statuses share the top rank; ties are
// broken by updated_at, so that all clusters pick the same one.
func statusRank(s string) (int, bool) {
	switch s {
	case StatusPendingApproval:
		return 0, true
	case StatusApproved:
		return 1, true
	case StatusApplied, StatusRejected, StatusExpired:
		return 2, true
	default:
		return 0, false
	}
}

// RequestID is the id of the request for one target: "{base}-{cluster}".
func RequestID(base, cluster string) string { return base + "-" + cluster }

func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func fromEpoch(f float64) time.Time {
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9))
}
