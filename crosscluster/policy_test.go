package crosscluster

import (
	"encoding/json"
	"testing"

	"github.com/baldur-go/baldur"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidatePolicy(t *testing.T) {
	good := func() baldur.Record {
		return baldur.Record{"policy_id": "p", "config_type": "retry", "version": int64(2), "created_by": "a",
			"created_at": 1.5, "rules": []any{map[string]any{"field": "x", "min": 1, "max": 2.5, "allowed": []any{1, 2}}}}
	}
	p, err := ValidatePolicy(good())
	require.NoError(t, err)
	assert.Equal(t, "p", p.ID)
	assert.EqualValues(t, 2, p.Version)
	require.Len(t, p.Rules, 1)
	assert.Equal(t, 1.0, *p.Rules[0].Min)
	assert.Equal(t, 2.5, *p.Rules[0].Max)
	assert.Equal(t, []any{1, 2}, p.Rules[0].Allowed)

	// Round trip through the record.
	back, err := ValidatePolicy(p.Record())
	require.NoError(t, err)
	assert.Equal(t, p, back)

	for name, mutate := range map[string]func(baldur.Record){
		"nil id":           func(r baldur.Record) { delete(r, "policy_id") },
		"id not string":    func(r baldur.Record) { r["policy_id"] = 3 },
		"id with slash":    func(r baldur.Record) { r["policy_id"] = "a/b" },
		"no config type":   func(r baldur.Record) { delete(r, "config_type") },
		"version string":   func(r baldur.Record) { r["version"] = "2" },
		"version fraction": func(r baldur.Record) { r["version"] = 1.5 },
		"version negative": func(r baldur.Record) { r["version"] = -1 },
		"rules not list":   func(r baldur.Record) { r["rules"] = map[string]any{} },
		"rule not object":  func(r baldur.Record) { r["rules"] = []any{"x"} },
		"rule no field":    func(r baldur.Record) { r["rules"] = []any{map[string]any{"min": 1}} },
		"min not number":   func(r baldur.Record) { r["rules"] = []any{map[string]any{"field": "x", "min": "1"}} },
		"max bool":         func(r baldur.Record) { r["rules"] = []any{map[string]any{"field": "x", "max": true}} },
		"min above max":    func(r baldur.Record) { r["rules"] = []any{map[string]any{"field": "x", "min": 3, "max": 2}} },
		"allowed not list": func(r baldur.Record) { r["rules"] = []any{map[string]any{"field": "x", "allowed": 1}} },
		"created_by int":   func(r baldur.Record) { r["created_by"] = 1 },
		"created_at str":   func(r baldur.Record) { r["created_at"] = "now" },
		"origin int":       func(r baldur.Record) { r["origin"] = 1 },
	} {
		t.Run(name, func(t *testing.T) {
			r := good()
			mutate(r)
			_, err := ValidatePolicy(r)
			require.ErrorIs(t, err, ErrInvalidPolicy)
			require.ErrorIs(t, err, baldur.ErrInvalidArgument)
		})
	}
	_, err = ValidatePolicy(nil)
	require.ErrorIs(t, err, ErrInvalidPolicy)
	// Optional parts may be absent or null.
	_, err = ValidatePolicy(baldur.Record{"policy_id": "p", "config_type": "t", "rules": nil, "version": nil})
	require.NoError(t, err)
}

func TestMergeOrder(t *testing.T) {
	pol := func(v int64, updated float64, origin string) mergeKey {
		rec := Policy{ID: "p", ConfigType: "t", Version: v, CreatedAt: 1, UpdatedAt: updated, Origin: origin}.Record()
		b, _ := baldur.EncodeRecord(rec)
		p, err := parseValue(kindPolicy, b, "label")
		require.NoError(t, err)
		return p.key
	}
	assert.Positive(t, compareKeys(pol(2, 1, ""), pol(1, 9, "")), "version first")
	assert.Positive(t, compareKeys(pol(1, 2, "a"), pol(1, 1, "z")), "then update time")
	assert.Positive(t, compareKeys(pol(1, 1, "b"), pol(1, 1, "a")), "then origin")
	assert.Zero(t, compareKeys(pol(1, 1, "a"), pol(1, 1, "a")))

	req := func(status string, updated float64) mergeKey {
		b, _ := json.Marshal(map[string]any{"status": status, "target_cluster": "w", "updated_at": updated})
		p, err := parseValue(kindRequest, b, "east")
		require.NoError(t, err)
		return p.key
	}
	assert.Positive(t, compareKeys(req(StatusApproved, 1), req(StatusPendingApproval, 9)))
	assert.Positive(t, compareKeys(req(StatusApplied, 1), req(StatusApproved, 9)))
	assert.Positive(t, compareKeys(req(StatusRejected, 1), req(StatusPendingApproval, 9)))
	assert.Positive(t, compareKeys(req(StatusExpired, 2), req(StatusApplied, 1)), "final statuses: the later one")
}
