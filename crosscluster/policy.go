package crosscluster

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/baldur-go/baldur"
)

// Policy is a governance policy: rules a config of one type must satisfy in
// every cluster. Policies propagate to every cluster without approval.
type Policy struct {
	ID         string  // policy_id
	ConfigType string  // config_type
	Rules      []Rule  // rules
	Version    int64   // version; a higher one wins when clusters disagree
	CreatedBy  string  // created_by
	CreatedAt  float64 // created_at, epoch seconds
	// UpdatedAt (updated_at, epoch seconds) breaks ties between two copies
	// of the same version; 0 means CreatedAt.
	UpdatedAt float64
	// Origin (origin) names the cluster, or "consul", where the policy was
	// written; it breaks the remaining ties. Optional.
	Origin string
}

// Rule constrains one field of a config. Each bound is optional; a config
// that lacks the field passes the rule.
type Rule struct {
	Field   string   // field: a top-level key, or a dotted path into nested objects
	Min     *float64 // min: the value must be a number >= Min
	Max     *float64 // max: the value must be a number <= Max
	Allowed []any    // allowed: the value must equal one of these
}

// Record returns the policy as the store keeps it.
func (p Policy) Record() baldur.Record {
	rules := make([]any, 0, len(p.Rules))
	for _, r := range p.Rules {
		m := map[string]any{"field": r.Field}
		if r.Min != nil {
			m["min"] = *r.Min
		}
		if r.Max != nil {
			m["max"] = *r.Max
		}
		if r.Allowed != nil {
			m["allowed"] = append([]any(nil), r.Allowed...)
		}
		rules = append(rules, m)
	}
	rec := baldur.Record{
		"policy_id":   p.ID,
		"config_type": p.ConfigType,
		"rules":       rules,
		"version":     p.Version,
		"created_by":  p.CreatedBy,
		"created_at":  p.CreatedAt,
	}
	if p.UpdatedAt != 0 {
		rec["updated_at"] = p.UpdatedAt
	}
	if p.Origin != "" {
		rec["origin"] = p.Origin
	}
	return rec
}

// updateTime is the tie-breaking time: updated_at, else created_at.
func (p Policy) updateTime() float64 {
	if p.UpdatedAt != 0 {
		return p.UpdatedAt
	}
	return p.CreatedAt
}

func invalidPolicy(format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", ErrInvalidPolicy, baldur.ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// ValidatePolicy parses and checks a stored policy record: policy_id and
// config_type are valid ids; rules is a list of objects, each with a
// non-empty string field, numeric min and max (min <= max) and a list
// allowed, all optional; version is a non-negative integer (absent: 0);
// created_by and origin are strings, created_at and updated_at numbers (all
// optional). Unknown fields are ignored. Errors wrap ErrInvalidPolicy and
// baldur.ErrInvalidArgument. The sync agent runs it on every policy it
// imports or replicates.
func ValidatePolicy(rec baldur.Record) (Policy, error) {
	var p Policy
	if rec == nil {
		return p, invalidPolicy("record is nil")
	}
	var err error
	if p.ID, err = requiredString(rec, "policy_id"); err != nil {
		return p, err
	}
	if err := baldur.ValidateID("policy id", p.ID); err != nil {
		return p, invalidPolicy("%v", err)
	}
	if p.ConfigType, err = requiredString(rec, "config_type"); err != nil {
		return p, err
	}
	if err := baldur.ValidateID("config type", p.ConfigType); err != nil {
		return p, invalidPolicy("policy %q: %v", p.ID, err)
	}
	if v, ok := rec["version"]; ok && v != nil {
		n, ok := baldur.AsInt64(v)
		if !ok || n < 0 {
			return p, invalidPolicy("policy %q: version %v is not a non-negative integer", p.ID, v)
		}
		p.Version = n
	}
	if p.CreatedBy, err = optionalString(rec, p.ID, "created_by"); err != nil {
		return p, err
	}
	if p.Origin, err = optionalString(rec, p.ID, "origin"); err != nil {
		return p, err
	}
	if p.CreatedAt, err = optionalNumber(rec, p.ID, "created_at"); err != nil {
		return p, err
	}
	if p.UpdatedAt, err = optionalNumber(rec, p.ID, "updated_at"); err != nil {
		return p, err
	}
	raw, ok := rec["rules"]
	if !ok || raw == nil {
		return p, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return p, invalidPolicy("policy %q: rules is %T, want a list", p.ID, raw)
	}
	for i, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return p, invalidPolicy("policy %q: rule %d is %T, want an object", p.ID, i, item)
		}
		r, err := parseRule(p.ID, i, m)
		if err != nil {
			return p, err
		}
		p.Rules = append(p.Rules, r)
	}
	return p, nil
}

func parseRule(policyID string, i int, m map[string]any) (Rule, error) {
	var r Rule
	f, ok := m["field"].(string)
	if !ok || strings.TrimSpace(f) == "" {
		return r, invalidPolicy("policy %q: rule %d: field is %v, want a non-empty string", policyID, i, m["field"])
	}
	r.Field = f
	for _, bound := range []struct {
		name string
		dst  **float64
	}{{"min", &r.Min}, {"max", &r.Max}} {
		v, ok := m[bound.name]
		if !ok || v == nil {
			continue
		}
		n, ok := asFloat(v)
		if !ok {
			return r, invalidPolicy("policy %q: rule %d (%s): %s is %v, want a number", policyID, i, f, bound.name, v)
		}
		*bound.dst = &n
	}
	if r.Min != nil && r.Max != nil && *r.Min > *r.Max {
		return r, invalidPolicy("policy %q: rule %d (%s): min %v is above max %v", policyID, i, f, *r.Min, *r.Max)
	}
	if v, ok := m["allowed"]; ok && v != nil {
		list, ok := v.([]any)
		if !ok {
			return r, invalidPolicy("policy %q: rule %d (%s): allowed is %T, want a list", policyID, i, f, v)
		}
		r.Allowed = append([]any{}, list...)
	}
	return r, nil
}

func requiredString(rec baldur.Record, key string) (string, error) {
	v, ok := rec[key]
	if !ok || v == nil {
		return "", invalidPolicy("%s is missing", key)
	}
	s, ok := v.(string)
	if !ok {
		return "", invalidPolicy("%s is %T, want a string", key, v)
	}
	return s, nil
}

func optionalString(rec baldur.Record, id, key string) (string, error) {
	v, ok := rec[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", invalidPolicy("policy %q: %s is %T, want a string", id, key, v)
	}
	return s, nil
}

func optionalNumber(rec baldur.Record, id, key string) (float64, error) {
	v, ok := rec[key]
	if !ok || v == nil {
		return 0, nil
	}
	n, ok := asFloat(v)
	if !ok {
		return 0, invalidPolicy("policy %q: %s is %v, want a number", id, key, v)
	}
	return n, nil
}

// asFloat converts a JSON-ish number to float64; NaN and ±Inf are refused.
func asFloat(v any) (float64, bool) {
	var f float64
	switch t := v.(type) {
	case float64:
		f = t
	case float32:
		f = float64(t)
	case json.Number:
		x, err := t.Float64()
		if err != nil {
			return 0, false
		}
		f = x
	case bool, string, nil:
		return 0, false
	default:
		n, ok := baldur.AsInt64(v)
		if !ok {
			rv := reflect.ValueOf(v)
			if rv.CanUint() {
				return float64(rv.Uint()), true
			}
			return 0, false
		}
		f = float64(n)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// lookupField finds a rule's field in cfg: the top-level key first, then the
// dotted path through nested objects.
func lookupField(cfg map[string]any, field string) (any, bool) {
	if v, ok := cfg[field]; ok {
		return v, true
	}
	if !strings.Contains(field, ".") {
		return nil, false
	}
	var cur any = cfg
	for _, step := range strings.Split(field, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[step]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// Check returns the violations of cfg under the policy's rules, one message
// per failed bound; a rule whose field cfg lacks is skipped.
func (p Policy) Check(cfg map[string]any) []string {
	var out []string
	for _, r := range p.Rules {
		v, ok := lookupField(cfg, r.Field)
		if !ok {
			continue
		}
		if r.Min != nil || r.Max != nil {
			n, isNum := asFloat(v)
			switch {
			case !isNum:
				out = append(out, fmt.Sprintf("policy %s: %s = %v is not a number", p.ID, r.Field, v))
			case r.Min != nil && n < *r.Min:
				out = append(out, fmt.Sprintf("policy %s: %s = %v is below the minimum %v", p.ID, r.Field, v, *r.Min))
			case r.Max != nil && n > *r.Max:
				out = append(out, fmt.Sprintf("policy %s: %s = %v is above the maximum %v", p.ID, r.Field, v, *r.Max))
			}
		}
		if r.Allowed != nil && !allowed(v, r.Allowed) {
			out = append(out, fmt.Sprintf("policy %s: %s = %v is not one of the allowed values %v", p.ID, r.Field, v, r.Allowed))
		}
	}
	return out
}

// allowed compares numbers by value (3 == 3.0) and everything else deeply.
func allowed(v any, list []any) bool {
	n, isNum := asFloat(v)
	for _, a := range list {
		if isNum {
			if m, ok := asFloat(a); ok && m == n {
				return true
			}
			continue
		}
		if reflect.DeepEqual(v, a) {
			return true
		}
	}
	return false
}
