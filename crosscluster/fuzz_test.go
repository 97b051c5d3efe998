package crosscluster

import (
	"testing"

	"github.com/baldur-go/baldur"
)

// FuzzValidatePolicy feeds arbitrary JSON to the policy parser: it must never
// panic, and a policy it accepts must survive a round trip through Record.
func FuzzValidatePolicy(f *testing.F) {
	f.Add([]byte(`{"policy_id":"p","config_type":"retry","version":1,"rules":[{"field":"x","min":1,"max":2,"allowed":[1,"a"]}]}`))
	f.Add([]byte(`{"policy_id":"p","config_type":"t","rules":[{"field":"a.b","min":-1e308}]}`))
	f.Add([]byte(`{"policy_id":"","config_type":3}`))
	f.Add([]byte(`{"policy_id":"p","config_type":"t","version":1.5}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := baldur.DecodeRecord(data)
		if err != nil {
			return
		}
		p, err := ValidatePolicy(rec)
		if err != nil {
			return
		}
		back, err := ValidatePolicy(p.Record())
		if err != nil {
			t.Fatalf("accepted policy does not round-trip: %v", err)
		}
		if back.ID != p.ID || back.Version != p.Version || len(back.Rules) != len(p.Rules) {
			t.Fatalf("round trip changed the policy: %+v -> %+v", p, back)
		}
		_ = p.Check(map[string]any{"x": 1, "a": map[string]any{"b": "c"}})
	})
}

// FuzzDecodeMarker: the marker parser never panics and accepts only
// markers with an origin.
func FuzzDecodeMarker(f *testing.F) {
	f.Add([]byte(`{"origin":"east","peer":"east","src_rev":5}`))
	f.Add([]byte(`{"origin":"","forward":true}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, ok := decodeMarker(data); ok && m.Origin == "" {
			t.Fatal("accepted a marker without origin")
		}
	})
}

// FuzzMergeOrder: the merge order is a total order on the values that
// parse, so that every cluster picks the same winner whatever the order of
// arrival: antisymmetric, and zero only for identical bytes.
func FuzzMergeOrder(f *testing.F) {
	f.Add([]byte(`{"policy_id":"p","config_type":"t","version":2}`), []byte(`{"policy_id":"p","config_type":"t","version":1,"updated_at":9}`), "east", "west", true)
	f.Add([]byte(`{"status":"approved","target_cluster":"w","updated_at":1}`), []byte(`{"status":"rejected","target_cluster":"w"}`), "a", "b", false)
	f.Fuzz(func(t *testing.T, a, b []byte, la, lb string, policy bool) {
		kind := kindRequest
		if policy {
			kind = kindPolicy
		}
		pa, errA := parseValue(kind, a, la)
		pb, errB := parseValue(kind, b, lb)
		if errA != nil || errB != nil {
			return
		}
		ab, ba := compareKeys(pa.key, pb.key), compareKeys(pb.key, pa.key)
		if ab != -ba {
			t.Fatalf("not antisymmetric: %d %d", ab, ba)
		}
		if ab == 0 && string(a) != string(b) {
			t.Fatalf("different values tie: %q %q", a, b)
		}
	})
}
