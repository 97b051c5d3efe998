package crosscluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/memstore"
	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func newService(t *testing.T, local string) (*Service, baldur.CrossClusterStore, *clockwork.FakeClock) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(t0)
	store := memstore.New(memstore.WithClock(clock)).CrossCluster()
	s, err := NewService(store, local, WithClock(clock))
	require.NoError(t, err)
	return s, store, clock
}

// newPair returns the source cluster's service ("west") and the target's
// ("east") over one store: requests are created in west for east and only
// east decides on them.
func newPair(t *testing.T) (src, tgt *Service, store baldur.CrossClusterStore, clock *clockwork.FakeClock) {
	t.Helper()
	src, store, clock = newService(t, "west")
	tgt, err := NewService(store, "east", WithClock(clock))
	require.NoError(t, err)
	return src, tgt, store, clock
}

func TestService_OnlyTheTargetDecides(t *testing.T) {
	src, tgt, store, _ := newPair(t)
	ctx := context.Background()
	_, err := src.CreateRequests(ctx, "c", []string{"east"}, change)
	require.NoError(t, err)
	_, err = src.Approve(ctx, "c-east", "mallory", nil)
	require.ErrorIs(t, err, ErrNotTarget)
	assert.Contains(t, err.Error(), `id "c-east" targets "east", this is "west"`)
	_, err = src.Reject(ctx, "c-east", "mallory", "no")
	require.ErrorIs(t, err, ErrNotTarget)
	stored, err := store.GetRequest(ctx, "c-east")
	require.NoError(t, err)
	assert.Equal(t, StatusPendingApproval, stored["status"], "a refused decision writes nothing")
	_, err = tgt.Approve(ctx, "c-east", "bob", nil)
	require.NoError(t, err)
}

var change = ConfigChange{ConfigType: "retry", PreviousValue: 3, NewValue: 5, ChangedBy: "alice", RolloutID: "r1", Reason: "more retries"}

func TestNewService_RefusesBadInput(t *testing.T) {
	store := memstore.New().CrossCluster()
	_, err := NewService(nil, "east")
	assert.ErrorIs(t, err, baldur.ErrInvalidArgument)
	_, err = NewService(store, "")
	assert.ErrorIs(t, err, baldur.ErrInvalidArgument)
	_, err = NewService(store, "east", WithClock(nil))
	assert.ErrorIs(t, err, baldur.ErrInvalidArgument)
	_, err = NewService(store, "east", WithLogger(nil))
	assert.ErrorIs(t, err, baldur.ErrInvalidArgument)
}

func TestService_CreateRequests(t *testing.T) {
	s, store, _ := newService(t, "east")
	ctx := context.Background()
	recs, err := s.CreateRequests(ctx, "chg1", []string{"west", "central"}, change)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	for i, target := range []string{"west", "central"} {
		id := "chg1-" + target
		assert.Equal(t, id, recs[i]["request_id"])
		got, err := store.GetRequest(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, StatusPendingApproval, got["status"])
		assert.Equal(t, "east", got["source_cluster"])
		assert.Equal(t, target, got["target_cluster"])
		assert.InDelta(t, epoch(t0), got["created_at"], 1e-3)
		assert.InDelta(t, epoch(t0.Add(24*time.Hour)), got["expires_at"], 1e-3)
		cc := got["config_change"].(map[string]any)
		assert.Equal(t, "retry", cc["config_type"])
		assert.EqualValues(t, 5, cc["new_value"])
		assert.EqualValues(t, 3, cc["previous_value"])
		assert.Equal(t, "alice", cc["changed_by"])
		assert.Equal(t, "r1", cc["rollout_id"])
		assert.Equal(t, "more retries", cc["reason"])
		assert.InDelta(t, epoch(t0), cc["changed_at"], 1e-3)
		ids, err := store.GetPendingIDs(ctx, target)
		require.NoError(t, err)
		assert.Equal(t, []string{id}, ids)
	}
}

func TestService_CreateRequestsRefusesBadInput(t *testing.T) {
	s, store, _ := newService(t, "east")
	ctx := context.Background()
	for name, tc := range map[string]struct {
		base    string
		targets []string
		change  ConfigChange
	}{
		"empty base":        {"", []string{"west"}, change},
		"slash in base":     {"a/b", []string{"west"}, change},
		"no targets":        {"b", nil, change},
		"local target":      {"b", []string{"east"}, change},
		"duplicate target":  {"b", []string{"west", "west"}, change},
		"bad target":        {"b", []string{"west", ""}, change},
		"empty config type": {"b", []string{"west"}, ConfigChange{}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.CreateRequests(ctx, tc.base, tc.targets, tc.change)
			require.ErrorIs(t, err, baldur.ErrInvalidArgument)
			ids, err := store.GetPendingIDs(ctx, "west")
			require.NoError(t, err)
			assert.Empty(t, ids, "nothing written")
		})
	}
}

func TestService_StoreTTLIsSevenDays(t *testing.T) {
	s, store, clock := newService(t, "east")
	ctx := context.Background()
	_, err := s.CreateRequests(ctx, "c", []string{"west"}, change)
	require.NoError(t, err)
	clock.Advance(7*24*time.Hour - time.Second)
	_, err = store.GetRequest(ctx, "c-west")
	require.NoError(t, err)
	clock.Advance(2 * time.Second)
	_, err = store.GetRequest(ctx, "c-west")
	require.ErrorIs(t, err, baldur.ErrNotFound)
}

func TestService_ApproveApplies(t *testing.T) {
	s, tgt, store, clock := newPair(t)
	ctx := context.Background()
	_, err := s.CreateRequests(ctx, "c", []string{"east"}, change)
	require.NoError(t, err)
	clock.Advance(time.Hour)
	var applied baldur.Record
	rec, err := tgt.Approve(ctx, "c-east", "bob", func(_ context.Context, r baldur.Record) error {
		applied = r
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, StatusApproved, applied["status"], "apply sees the approved request")
	assert.Equal(t, StatusApplied, rec["status"])
	assert.Equal(t, "bob", rec["approved_by"])
	assert.InDelta(t, epoch(t0.Add(time.Hour)), rec["approved_at"], 1e-3)
	stored, err := store.GetRequest(ctx, "c-east")
	require.NoError(t, err)
	assert.Equal(t, StatusApplied, stored["status"])
	ids, err := store.GetPendingIDs(ctx, "east")
	require.NoError(t, err)
	assert.Empty(t, ids)
}

func TestService_ApproveWithoutApplyStaysApproved(t *testing.T) {
	s, tgt, _, _ := newPair(t)
	ctx := context.Background()
	_, err := s.CreateRequests(ctx, "c", []string{"east"}, change)
	require.NoError(t, err)
	rec, err := tgt.Approve(ctx, "c-east", "bob", nil)
	require.NoError(t, err)
	assert.Equal(t, StatusApproved, rec["status"])
}

func TestService_ApplyFailureKeepsApproved(t *testing.T) {
	s, tgt, store, _ := newPair(t)
	ctx := context.Background()
	_, err := s.CreateRequests(ctx, "c", []string{"east"}, change)
	require.NoError(t, err)
	boom := errors.New("boom")
	_, err = tgt.Approve(ctx, "c-east", "bob", func(context.Context, baldur.Record) error { return boom })
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "c-east")
	stored, err := store.GetRequest(ctx, "c-east")
	require.NoError(t, err)
	assert.Equal(t, StatusApproved, stored["status"])
}

func TestService_ApproveErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("unknown", func(t *testing.T) {
		_, tgt, _, _ := newPair(t)
		_, err := tgt.Approve(ctx, "nope", "bob", nil)
		require.ErrorIs(t, err, ErrRequestNotFound)
		require.ErrorIs(t, err, baldur.ErrNotFound)
		assert.Contains(t, err.Error(), `propagation request not found: id "nope"`)
		assert.False(t, errors.Is(err, ErrNotPending) || errors.Is(err, ErrRequestExpired))
	})
	t.Run("not pending", func(t *testing.T) {
		s, tgt, _, _ := newPair(t)
		_, err := s.CreateRequests(ctx, "c", []string{"east"}, change)
		require.NoError(t, err)
		_, err = tgt.Reject(ctx, "c-east", "bob", "no")
		require.NoError(t, err)
		_, err = tgt.Approve(ctx, "c-east", "bob", nil)
		require.ErrorIs(t, err, ErrNotPending)
		assert.Contains(t, err.Error(), `is not pending approval: id "c-east" has status "rejected"`)
		assert.False(t, errors.Is(err, ErrRequestNotFound) || errors.Is(err, ErrRequestExpired))
	})
	t.Run("expired", func(t *testing.T) {
		s, tgt, store, clock := newPair(t)
		_, err := s.CreateRequests(ctx, "c", []string{"east"}, change)
		require.NoError(t, err)
		clock.Advance(24 * time.Hour)
		_, err = tgt.Approve(ctx, "c-east", "bob", nil)
		require.ErrorIs(t, err, ErrRequestExpired)
		assert.Contains(t, err.Error(), `has expired: id "c-east" expired at 2026-11-24T12:00:00Z`)
		assert.False(t, errors.Is(err, ErrRequestNotFound) || errors.Is(err, ErrNotPending))
		stored, err := store.GetRequest(ctx, "c-east")
		require.NoError(t, err)
		assert.Equal(t, StatusExpired, stored["status"], "marked expired")
		// From now on it is simply not pending.
		_, err = tgt.Approve(ctx, "c-east", "bob", nil)
		require.ErrorIs(t, err, ErrNotPending)
	})
	t.Run("just before expiry", func(t *testing.T) {
		s, tgt, _, clock := newPair(t)
		_, err := s.CreateRequests(ctx, "c", []string{"east"}, change)
		require.NoError(t, err)
		clock.Advance(24*time.Hour - time.Second)
		_, err = tgt.Approve(ctx, "c-east", "bob", nil)
		require.NoError(t, err)
	})
}

func TestService_Reject(t *testing.T) {
	s, tgt, store, clock := newPair(t)
	ctx := context.Background()
	_, err := s.CreateRequests(ctx, "c", []string{"east"}, change)
	require.NoError(t, err)
	clock.Advance(time.Minute)
	rec, err := tgt.Reject(ctx, "c-east", "carol", "too risky")
	require.NoError(t, err)
	assert.Equal(t, StatusRejected, rec["status"])
	assert.Equal(t, "carol", rec["rejected_by"])
	assert.Equal(t, "too risky", rec["reject_reason"])
	assert.InDelta(t, epoch(t0.Add(time.Minute)), rec["rejected_at"], 1e-3)
	ids, err := store.GetPendingIDs(ctx, "east")
	require.NoError(t, err)
	assert.Empty(t, ids)

	_, err = tgt.Reject(ctx, "c-east", "carol", "again")
	require.ErrorIs(t, err, ErrNotPending)
	_, err = tgt.Reject(ctx, "missing", "carol", "")
	require.ErrorIs(t, err, ErrRequestNotFound)
	_, err = s.CreateRequests(ctx, "d", []string{"east"}, change)
	require.NoError(t, err)
	clock.Advance(25 * time.Hour)
	_, err = tgt.Reject(ctx, "d-east", "carol", "")
	require.ErrorIs(t, err, ErrRequestExpired)
}

func TestService_ExpireOld(t *testing.T) {
	s, store, clock := newService(t, "west")
	ctx := context.Background()
	_, err := s.CreateRequests(ctx, "old", []string{"east", "central"}, change)
	require.NoError(t, err)
	clock.Advance(12 * time.Hour)
	_, err = s.CreateRequests(ctx, "new", []string{"east"}, change)
	require.NoError(t, err)
	_, err = s.CreateRequests(ctx, "done", []string{"east"}, change)
	require.NoError(t, err)
	// An id whose request was approved elsewhere, and one that is gone.
	rec, err := store.GetRequest(ctx, "done-east")
	require.NoError(t, err)
	rec["status"] = StatusApproved
	require.NoError(t, store.SaveRequest(ctx, "done-east", rec, time.Hour))
	require.NoError(t, store.AddPending(ctx, "east", "ghost"))

	clock.Advance(12 * time.Hour) // old is 24 h old, new 12 h
	n, err := s.ExpireOld(ctx, "east")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	ids, err := store.GetPendingIDs(ctx, "east")
	require.NoError(t, err)
	assert.Equal(t, []string{"new-east"}, ids)
	old, err := store.GetRequest(ctx, "old-east")
	require.NoError(t, err)
	assert.Equal(t, StatusExpired, old["status"])
	// Only the named cluster's set is walked.
	central, err := store.GetRequest(ctx, "old-central")
	require.NoError(t, err)
	assert.Equal(t, StatusPendingApproval, central["status"])

	n, err = s.ExpireOld(ctx, "east")
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = s.ExpireOld(ctx, "")
	require.ErrorIs(t, err, baldur.ErrInvalidArgument)
}

func TestService_PolicyValidation(t *testing.T) {
	s, store, _ := newService(t, "east")
	ctx := context.Background()

	ok, violations, err := s.ValidateConfig(ctx, "retry", map[string]any{"max_attempts": 1000})
	require.NoError(t, err)
	assert.True(t, ok, "no policy means valid")
	assert.Empty(t, violations)

	require.NoError(t, s.SavePolicy(ctx, Policy{ID: "retry-limits", ConfigType: "retry", Version: 1, CreatedBy: "alice",
		Rules: []Rule{
			{Field: "max_attempts", Min: ptr(1.0), Max: ptr(10.0)},
			{Field: "backoff", Allowed: []any{"linear", "exponential"}},
			{Field: "jitter", Allowed: []any{0, 0.1, 0.2}},
			{Field: "limits.timeout_ms", Max: ptr(5000.0)},
		}}))
	require.NoError(t, s.SavePolicy(ctx, Policy{ID: "other-type", ConfigType: "cache",
		Rules: []Rule{{Field: "max_attempts", Max: ptr(0.0)}}}))

	stored, err := store.GetPolicy(ctx, "retry-limits")
	require.NoError(t, err)
	assert.Equal(t, "east", stored["origin"])
	assert.InDelta(t, epoch(t0), stored["created_at"], 1e-3)

	for _, tc := range []struct {
		name string
		cfg  map[string]any
		want []string
	}{
		{"all good", map[string]any{"max_attempts": 5, "backoff": "linear", "jitter": 0.1}, nil},
		{"bounds inclusive", map[string]any{"max_attempts": 10}, nil},
		{"min", map[string]any{"max_attempts": 0}, []string{"policy retry-limits: max_attempts = 0 is below the minimum 1"}},
		{"max", map[string]any{"max_attempts": 10.5}, []string{"policy retry-limits: max_attempts = 10.5 is above the maximum 10"}},
		{"not a number", map[string]any{"max_attempts": "five"}, []string{"policy retry-limits: max_attempts = five is not a number"}},
		{"allowed", map[string]any{"backoff": "random"}, []string{"policy retry-limits: backoff = random is not one of the allowed values [linear exponential]"}},
		{"allowed numbers by value", map[string]any{"jitter": int64(0)}, nil},
		{"nested field", map[string]any{"limits": map[string]any{"timeout_ms": 6000}}, []string{"policy retry-limits: limits.timeout_ms = 6000 is above the maximum 5000"}},
		{"missing fields skipped", map[string]any{"unrelated": true}, nil},
		{"two violations", map[string]any{"max_attempts": 11, "backoff": "none"}, []string{
			"policy retry-limits: max_attempts = 11 is above the maximum 10",
			"policy retry-limits: backoff = none is not one of the allowed values [linear exponential]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, violations, err := s.ValidateConfig(ctx, "retry", tc.cfg)
			require.NoError(t, err)
			assert.Equal(t, tc.want == nil, ok)
			assert.Equal(t, tc.want, violations)
		})
	}

	_, _, err = s.ValidateConfig(ctx, "", nil)
	require.ErrorIs(t, err, baldur.ErrInvalidArgument)
	// A malformed policy in the store fails closed.
	require.NoError(t, store.SavePolicy(ctx, "broken", baldur.Record{"policy_id": "broken", "config_type": "retry", "rules": "x"}))
	_, _, err = s.ValidateConfig(ctx, "retry", map[string]any{})
	require.ErrorIs(t, err, ErrInvalidPolicy)
}

func TestService_SavePolicyRefusesInvalid(t *testing.T) {
	s, store, _ := newService(t, "east")
	ctx := context.Background()
	err := s.SavePolicy(ctx, Policy{ID: "p", ConfigType: "retry", Rules: []Rule{{Field: "x", Min: ptr(5.0), Max: ptr(1.0)}}})
	require.ErrorIs(t, err, ErrInvalidPolicy)
	require.ErrorIs(t, err, baldur.ErrInvalidArgument)
	assert.Contains(t, err.Error(), "min 5 is above max 1")
	err = s.SavePolicy(ctx, Policy{ID: "", ConfigType: "retry"})
	require.ErrorIs(t, err, ErrInvalidPolicy)
	recs, err := store.ListPolicies(ctx)
	require.NoError(t, err)
	assert.Empty(t, recs)
}
