package etcdstore

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/baldur-go/baldur"
)

// Health reports on the Store's etcd client under the alias "default". It
// implements baldur.DatabaseHealthProvider.
type Health struct{ s *Store }

var _ baldur.DatabaseHealthProvider = (*Health)(nil)

// Vendor is the vendor name health checks report.
const Vendor = "etcd"

// CheckConnection: the connection is usable when a linearizable read (which
// needs a leader and a quorum) answers within the health timeout. Metadata
// comes from Maintenance.Status of the first endpoint that answers: member
// id, leader, raft term and index, db size, server version. An unusable
// connection is IsUsable false with the cause in Metadata["error"] and a nil
// error; an alias other than "default" is baldur.ErrNotFound.
func (h *Health) CheckConnection(ctx context.Context, alias string) (baldur.DatabaseConnectionInfo, error) {
	s := h.s
	if alias != baldur.DefaultAlias {
		return baldur.DatabaseConnectionInfo{}, fmt.Errorf("%w: etcdstore: health alias %q (only %q)", baldur.ErrNotFound, alias, baldur.DefaultAlias)
	}
	info := baldur.DatabaseConnectionInfo{Alias: alias, Vendor: Vendor, Metadata: map[string]any{}}
	eps := s.cli.Endpoints()
	info.Metadata["endpoints"] = eps
	if err := s.check(); err != nil {
		info.Metadata["error"] = err.Error()
		return info, nil
	}
	cctx, cancel := context.WithTimeout(ctx, s.healthTimeout)
	defer cancel()
	start := time.Now()
	// Linearizable (the default): served only through the leader's read index.
	if _, err := s.cli.Get(cctx, s.keys.Prefix()+"health", clientv3.WithCountOnly()); err != nil {
		info.Metadata["error"] = err.Error()
		return info, nil
	}
	info.IsUsable = true
	info.Metadata["read_latency_ms"] = float64(time.Since(start).Microseconds()) / 1000
	var lastErr error
	for _, ep := range eps {
		st, err := s.cli.Status(cctx, ep)
		if err != nil {
			lastErr = err
			continue
		}
		info.Metadata["endpoint"] = ep
		info.Metadata["member_id"] = fmt.Sprintf("%x", st.Header.MemberId)
		info.Metadata["leader"] = fmt.Sprintf("%x", st.Leader)
		info.Metadata["raft_term"] = int64(st.RaftTerm)
		info.Metadata["raft_index"] = int64(st.RaftIndex)
		info.Metadata["db_size"] = st.DbSize
		info.Metadata["version"] = st.Version
		lastErr = nil
		break
	}
	if lastErr != nil {
		info.Metadata["status_error"] = lastErr.Error()
	}
	return info, nil
}

// ListAliases returns ["default"].
func (h *Health) ListAliases(context.Context) ([]string, error) {
	return []string{baldur.DefaultAlias}, nil
}

// CloseAll closes the etcd client if the Store owns it (WithOwnClient);
// otherwise it closes nothing: the caller owns the client.
func (h *Health) CloseAll(context.Context) error {
	return h.s.closeClient()
}
