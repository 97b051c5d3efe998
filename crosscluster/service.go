package crosscluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/baldur-go/baldur"
	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"
)

// Service is the propagation workflow of one cluster over any
// baldur.CrossClusterStore: it creates requests for target clusters,
// approves, rejects and expires them, and keeps and applies governance
// policies. It holds no goroutines and is safe for concurrent use.
//
// When the store implements baldur.RequestUpdater (memstore and etcdstore
// do), every decision (approve, reject, marking expired) is one atomic
// read-modify-write of the request: of concurrent decisions on one request
// the first wins and the others get ErrNotPending, so apply runs once. Over
// a store without it, a decision is a read followed by a write: two
// concurrent approvals of one request can both read pending_approval and
// both succeed, running apply twice.
type Service struct {
	store   baldur.CrossClusterStore
	updater baldur.RequestUpdater // nil when the store lacks the extension
	local   string
	clock   clockwork.Clock
	logger  *zap.Logger
}

// NewService returns the workflow of cluster localCluster over store.
func NewService(store baldur.CrossClusterStore, localCluster string, opts ...ServiceOption) (*Service, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: %w", baldur.ErrInvalidArgument, errNilStore)
	}
	if err := baldur.ValidateID("cluster name", localCluster); err != nil {
		return nil, err
	}
	cfg := serviceConfig{clock: clockwork.NewRealClock(), logger: zap.NewNop()}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil ServiceOption", baldur.ErrInvalidArgument)
		}
		if err := o.applyService(&cfg); err != nil {
			return nil, err
		}
	}
	updater, _ := store.(baldur.RequestUpdater)
	return &Service{store: store, updater: updater, local: localCluster, clock: cfg.clock, logger: cfg.logger}, nil
}

// LocalCluster returns the name of the cluster the service runs in.
func (s *Service) LocalCluster() string { return s.local }

// CreateRequests creates one propagation request per target cluster, with id
// "{base}-{target}", status pending_approval, expires_at 24 h after creation
// and a store TTL of 7 days, and adds each to its target's pending set. Every
// argument is checked before anything is written: base, each target and the
// config type must be valid ids, targets non-empty, without duplicates and
// without the local cluster.
func (s *Service) CreateRequests(ctx context.Context, base string, targets []string, change ConfigChange) ([]baldur.Record, error) {
	if err := baldur.ValidateID("request base id", base); err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("%w: request %q has no target clusters", baldur.ErrInvalidArgument, base)
	}
	if err := baldur.ValidateID("config type", change.ConfigType); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(targets))
	for _, t := range targets {
		if err := baldur.ValidateID("target cluster", t); err != nil {
			return nil, err
		}
		if t == s.local {
			return nil, fmt.Errorf("%w: request %q targets the local cluster %q", baldur.ErrInvalidArgument, base, t)
		}
		if seen[t] {
			return nil, fmt.Errorf("%w: request %q names target %q twice", baldur.ErrInvalidArgument, base, t)
		}
		seen[t] = true
		if err := baldur.ValidateID("request id", RequestID(base, t)); err != nil {
			return nil, err
		}
	}
	now := s.clock.Now()
	if change.ChangedAt == 0 {
		change.ChangedAt = epoch(now)
	}
	out := make([]baldur.Record, 0, len(targets))
	for _, t := range targets {
		id := RequestID(base, t)
		rec := baldur.Record{
			"request_id":     id,
			"source_cluster": s.local,
			"target_cluster": t,
			"config_change":  change.record(),
			"status":         StatusPendingApproval,
			"created_at":     epoch(now),
			"updated_at":     epoch(now),
			"expires_at":     epoch(now.Add(RequestExpiry)),
			"approved_by":    nil,
			"approved_at":    nil,
			"rejected_by":    nil,
			"rejected_at":    nil,
			"reject_reason":  nil,
		}
		if err := s.store.SaveRequest(ctx, id, rec, RequestTTL); err != nil {
			return out, fmt.Errorf("crosscluster: save request %q: %w", id, err)
		}
		if err := s.store.AddPending(ctx, t, id); err != nil {
			return out, fmt.Errorf("crosscluster: add request %q to the pending set of %q: %w", id, t, err)
		}
		s.logger.Info("propagation request created", zap.String("request_id", id), zap.String("target", t))
		stored, err := baldur.CloneRecord(rec)
		if err != nil {
			return out, err
		}
		out = append(out, stored)
	}
	return out, nil
}

// GetRequest returns a request; a missing one is ErrRequestNotFound (which
// also matches baldur.ErrNotFound).
func (s *Service) GetRequest(ctx context.Context, id string) (baldur.Record, error) {
	rec, err := s.store.GetRequest(ctx, id)
	if errors.Is(err, baldur.ErrNotFound) {
		return nil, fmt.Errorf("%w: id %q: %w", ErrRequestNotFound, id, err)
	}
	if err != nil {
		return nil, fmt.Errorf("crosscluster: get request %q: %w", id, err)
	}
	return rec, nil
}

// PendingIDs returns the ids in cluster's pending set, sorted.
func (s *Service) PendingIDs(ctx context.Context, cluster string) ([]string, error) {
	return s.store.GetPendingIDs(ctx, cluster)
}

// pending loads a request that must still be pending_approval. An expired
// one is marked expired (and leaves the pending set) before
// ErrRequestExpired is returned.
func (s *Service) pending(ctx context.Context, id string) (baldur.Record, time.Time, error) {
	rec, err := s.GetRequest(ctx, id)
	if err != nil {
		return nil, time.Time{}, err
	}
	if err := notPending(id, rec); err != nil {
		return nil, time.Time{}, err
	}
	now := s.clock.Now()
	if err := expired(id, rec, now); err != nil {
		if _, err := s.finish(ctx, id, rec, now, StatusExpired, nil); err != nil {
			return nil, time.Time{}, err
		}
		return nil, time.Time{}, err
	}
	return rec, now, nil
}

// notPending is ErrNotPending unless rec is pending_approval.
func notPending(id string, rec baldur.Record) error {
	if status, _ := rec["status"].(string); status != StatusPendingApproval {
		return fmt.Errorf("%w: id %q has status %q", ErrNotPending, id, status)
	}
	return nil
}

// expired is ErrRequestExpired when rec is past its expires_at at now.
func expired(id string, rec baldur.Record, now time.Time) error {
	exp, ok := asFloat(rec["expires_at"])
	if ok && !now.Before(fromEpoch(exp)) {
		return fmt.Errorf("%w: id %q expired at %s", ErrRequestExpired, id,
			fromEpoch(exp).UTC().Format(time.RFC3339))
	}
	return nil
}

// notTarget is ErrNotTarget unless rec targets this cluster.
func (s *Service) notTarget(id string, rec baldur.Record) error {
	if target, _ := rec["target_cluster"].(string); target != s.local {
		return fmt.Errorf("%w: id %q targets %q, this is %q", ErrNotTarget, id, target, s.local)
	}
	return nil
}

// errStillPending tells decide's update that a check-only call (ExpireOld)
// found the request pending and unexpired: nothing is written.
var errStillPending = errors.New("crosscluster: request still pending")

// decide moves a pending request to status, setting the fields made from
// the decision's time; needTarget requires this cluster to be the target.
// With status "" it only checks, marking an expired request expired
// (ExpireOld), and returns nil, nil for a request still pending. The checks
// and their order (not found, not pending, expired, not target) are the
// same with and without the store's RequestUpdater; with it the check and
// the write are one atomic step.
func (s *Service) decide(ctx context.Context, id string, needTarget bool, status string, fields func(now time.Time) map[string]any) (baldur.Record, error) {
	if s.updater == nil {
		check := s.pending
		if needTarget {
			check = s.decidable
		}
		rec, now, err := check(ctx, id)
		if err != nil || status == "" {
			return nil, err
		}
		return s.finish(ctx, id, rec, now, status, fields(now))
	}
	var outcome, refused error // set by the last run of fn
	var to string              // the status the last run of fn wrote
	rec, err := s.updater.UpdateRequest(ctx, id, func(cur baldur.Record) (baldur.Record, time.Duration, error) {
		outcome, refused, to = nil, nil, status
		now := s.clock.Now()
		if refused = notPending(id, cur); refused != nil {
			return nil, 0, refused
		}
		var extra map[string]any
		if outcome = expired(id, cur, now); outcome != nil {
			to = StatusExpired
		} else {
			if needTarget {
				if refused = s.notTarget(id, cur); refused != nil {
					return nil, 0, refused
				}
			}
			if status == "" {
				refused = errStillPending
				return nil, 0, refused
			}
			extra = fields(now)
		}
		stamp(cur, now, to, extra)
		return cur, s.ttlLeft(cur, now), nil
	})
	switch {
	case refused != nil && errors.Is(err, errStillPending):
		return nil, nil
	case refused != nil && errors.Is(err, refused):
		return nil, err
	case errors.Is(err, baldur.ErrNotFound):
		return nil, fmt.Errorf("%w: id %q: %w", ErrRequestNotFound, id, err)
	case err != nil && to == "":
		return nil, fmt.Errorf("crosscluster: update request %q: %w", id, err)
	case err != nil:
		return nil, fmt.Errorf("crosscluster: save request %q as %s: %w", id, to, err)
	}
	if err := s.leavePending(ctx, id, rec); err != nil {
		return nil, err
	}
	s.logger.Info("propagation request "+to, zap.String("request_id", id))
	if outcome != nil {
		return nil, outcome
	}
	return rec, nil
}

// decidable is pending plus the rule that only the target cluster decides:
// config values need approval in the cluster they change.
func (s *Service) decidable(ctx context.Context, id string) (baldur.Record, time.Time, error) {
	rec, now, err := s.pending(ctx, id)
	if err != nil {
		return nil, time.Time{}, err
	}
	if err := s.notTarget(id, rec); err != nil {
		return nil, time.Time{}, err
	}
	return rec, now, nil
}

// ttlLeft is the rest of the 7-day store TTL counted from created_at, so a
// status change does not extend a request's life; at least one second.
func (s *Service) ttlLeft(rec baldur.Record, now time.Time) time.Duration {
	created, ok := asFloat(rec["created_at"])
	if !ok {
		return RequestTTL
	}
	left := fromEpoch(created).Add(RequestTTL).Sub(now)
	if left < time.Second {
		return time.Second
	}
	return left
}

// finish stores a status change and takes the request out of its target's
// pending set when it leaves pending_approval.
func (s *Service) finish(ctx context.Context, id string, rec baldur.Record, now time.Time, status string, fields map[string]any) (baldur.Record, error) {
	stamp(rec, now, status, fields)
	if err := s.store.SaveRequest(ctx, id, rec, s.ttlLeft(rec, now)); err != nil {
		return nil, fmt.Errorf("crosscluster: save request %q as %s: %w", id, status, err)
	}
	if err := s.leavePending(ctx, id, rec); err != nil {
		return nil, err
	}
	s.logger.Info("propagation request "+status, zap.String("request_id", id))
	return baldur.CloneRecord(rec)
}

// stamp sets rec's status, updated_at and fields.
func stamp(rec baldur.Record, now time.Time, status string, fields map[string]any) {
	rec["status"] = status
	rec["updated_at"] = epoch(now)
	for k, v := range fields {
		rec[k] = v
	}
}

// leavePending takes a request that is no longer pending_approval out of its
// target's pending set.
func (s *Service) leavePending(ctx context.Context, id string, rec baldur.Record) error {
	if status, _ := rec["status"].(string); status == StatusPendingApproval {
		return nil
	}
	target, _ := rec["target_cluster"].(string)
	if target == "" {
		return nil
	}
	if err := s.store.RemovePending(ctx, target, id); err != nil {
		return fmt.Errorf("crosscluster: remove request %q from the pending set of %q: %w", id, target, err)
	}
	return nil
}

// Approve approves a pending request. A request that does not exist is
// ErrRequestNotFound, one that is no longer pending ErrNotPending, one past
// its expires_at ErrRequestExpired (it is marked expired), and one that
// targets another cluster ErrNotTarget: only the target cluster decides. When apply is not
// nil it is called with the approved record; on success the request moves
// to applied (applied_at is set), on failure it stays approved and the
// error is returned, wrapped with the id. With a store that implements
// baldur.RequestUpdater the move to approved is atomic: of concurrent
// Approve and Reject calls on one request one wins, the others get
// ErrNotPending, and apply runs once (see Service).
func (s *Service) Approve(ctx context.Context, id, approvedBy string, apply func(context.Context, baldur.Record) error) (baldur.Record, error) {
	rec, err := s.decide(ctx, id, true, StatusApproved, func(now time.Time) map[string]any {
		return map[string]any{"approved_by": approvedBy, "approved_at": epoch(now)}
	})
	if err != nil || apply == nil {
		return rec, err
	}
	view, err := baldur.CloneRecord(rec)
	if err != nil {
		return nil, err
	}
	if err := apply(ctx, view); err != nil {
		return rec, fmt.Errorf("crosscluster: apply request %q: %w", id, err)
	}
	now := s.clock.Now()
	return s.finish(ctx, id, rec, now, StatusApplied, map[string]any{"applied_at": epoch(now)})
}

// Reject rejects a pending request, with the same errors (and the same
// atomicity) as Approve.
func (s *Service) Reject(ctx context.Context, id, rejectedBy, reason string) (baldur.Record, error) {
	return s.decide(ctx, id, true, StatusRejected, func(now time.Time) map[string]any {
		return map[string]any{"rejected_by": rejectedBy, "rejected_at": epoch(now), "reject_reason": reason}
	})
}

// ExpireOld walks cluster's pending set: a request past its expires_at is
// marked expired; every id that is gone or no longer pending leaves the set.
// It returns how many requests it expired.
func (s *Service) ExpireOld(ctx context.Context, cluster string) (int, error) {
	if err := baldur.ValidateID("cluster name", cluster); err != nil {
		return 0, err
	}
	ids, err := s.store.GetPendingIDs(ctx, cluster)
	if err != nil {
		return 0, fmt.Errorf("crosscluster: pending set of %q: %w", cluster, err)
	}
	n := 0
	for _, id := range ids {
		_, err := s.decide(ctx, id, false, "", nil)
		switch {
		case err == nil:
		case errors.Is(err, ErrRequestExpired):
			n++
		case errors.Is(err, ErrRequestNotFound), errors.Is(err, ErrNotPending):
			if err := s.store.RemovePending(ctx, cluster, id); err != nil {
				return n, fmt.Errorf("crosscluster: remove %q from the pending set of %q: %w", id, cluster, err)
			}
		default:
			return n, err
		}
	}
	return n, nil
}

// SavePolicy validates and stores a governance policy. CreatedAt (when 0)
// and UpdatedAt are stamped from the clock, Origin (when empty) is the local
// cluster. Replication carries it to every cluster; the higher Version wins.
func (s *Service) SavePolicy(ctx context.Context, p Policy) error {
	now := epoch(s.clock.Now())
	if p.CreatedAt == 0 {
		p.CreatedAt = now
	}
	p.UpdatedAt = now
	if p.Origin == "" {
		p.Origin = s.local
	}
	rec := p.Record()
	if _, err := ValidatePolicy(rec); err != nil {
		return err
	}
	if err := s.store.SavePolicy(ctx, p.ID, rec); err != nil {
		return fmt.Errorf("crosscluster: save policy %q: %w", p.ID, err)
	}
	return nil
}

// Policies returns every stored policy of configType, sorted by id; "" means
// all. A malformed stored policy is an error wrapping ErrInvalidPolicy.
func (s *Service) Policies(ctx context.Context, configType string) ([]Policy, error) {
	recs, err := s.store.ListPolicies(ctx)
	if err != nil {
		return nil, fmt.Errorf("crosscluster: list policies: %w", err)
	}
	var out []Policy
	for _, rec := range recs {
		p, err := ValidatePolicy(rec)
		if err != nil {
			return nil, err
		}
		if configType == "" || p.ConfigType == configType {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ValidateConfig checks cfg against every policy of configType. A config is
// valid when every rule whose field it has holds; with no policy it is
// valid. The violations name the policy, the field and the bound.
func (s *Service) ValidateConfig(ctx context.Context, configType string, cfg map[string]any) (bool, []string, error) {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return false, nil, err
	}
	ps, err := s.Policies(ctx, configType)
	if err != nil {
		return false, nil, err
	}
	var violations []string
	for _, p := range ps {
		violations = append(violations, p.Check(cfg)...)
	}
	return len(violations) == 0, violations, nil
}
