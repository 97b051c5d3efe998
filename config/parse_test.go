package config

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestParseValue(t *testing.T) {
	cases := []struct {
		raw  string
		want any
	}{
		{`{"a":1,"b":[2.5,"x",null],"c":{"d":true}}`, map[string]any{"a": int64(1), "b": []any{2.5, "x", nil}, "c": map[string]any{"d": true}}},
		{`[1, 2]`, []any{int64(1), int64(2)}},
		{`[1, 2]  `, []any{int64(1), int64(2)}},
		{`{}`, map[string]any{}},
		{`[]`, []any{}},
		{`{"big":9223372036854775808}`, map[string]any{"big": 9223372036854775808.0}},
		{`{"huge":1e999}`, map[string]any{"huge": "1e999"}},
		{`{"a":1} {"b":2}`, `{"a":1} {"b":2}`},
		{`[x]`, `[x]`},
		{`{broken`, `{broken`},
		{` {"a":1}`, ` {"a":1}`},
		{"true", true},
		{"TRUE", true},
		{"True", true},
		{"false", false},
		{"FaLsE", false},
		{"falſe", "falſe"},
		{"yes", "yes"},
		{"3.5", 3.5},
		{" 3.5 ", 3.5},
		{"1_000.5", 1000.5},
		{".5", 0.5},
		{"1.2.3", "1.2.3"},
		{"127.0.0.1", "127.0.0.1"},
		{"1.0e999", "1.0e999"},
		{"42", int64(42)},
		{" 42 ", int64(42)},
		{"-7", int64(-7)},
		{"1_000", int64(1000)},
		{"9223372036854775808", "9223372036854775808"},
		{"1e3", "1e3"},
		{"inf", "inf"},
		{"0x10", "0x10"},
		{"", ""},
		{"  ", "  "},
		{"hello", "hello"},
	}
	for _, c := range cases {
		got := ParseValue(c.raw)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseValue(%q) = %#v, want %#v", c.raw, got, c.want)
		}
	}
}

func FuzzParseValue(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,2.5,"x"]`, "true", "FALSE", "3.5", "1_000", " 42 ", "", "1.2.3", "{", "[1e999]", `{"a":{"b":[null]}}`, "-0", "1e3", "nan."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v := ParseValue(raw)
		if again := ParseValue(raw); !reflect.DeepEqual(v, again) {
			t.Fatalf("ParseValue(%q) not deterministic: %#v then %#v", raw, v, again)
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("ParseValue(%q) = %#v does not encode as JSON: %v", raw, v, err)
		}
		switch x := v.(type) {
		case map[string]any, []any:
			if raw == "" || (raw[0] != '{' && raw[0] != '[') {
				t.Fatalf("ParseValue(%q) = %#v: JSON from a value not starting with { or [", raw, v)
			}
			b, err := json.Marshal(x)
			if err != nil {
				t.Fatalf("ParseValue(%q) = %#v does not re-encode: %v", raw, v, err)
			}
			// The re-encoding reads back to the same value; numbers compare
			// by value, since 1.0 re-encodes as 1 and reads back as int64.
			if back := ParseValue(string(b)); !sameJSON(back, v) {
				t.Fatalf("ParseValue(%q) = %#v; re-encoded %s reads back as %#v", raw, v, b, back)
			}
		case bool:
			if !strings.EqualFold(raw, "true") && !strings.EqualFold(raw, "false") {
				t.Fatalf("ParseValue(%q) = %v: bool from a non-bool word", raw, x)
			}
		case float64:
			if !strings.Contains(raw, ".") {
				t.Fatalf("ParseValue(%q) = %v: float without a '.'", raw, x)
			}
		case int64:
		case string:
			if x != raw {
				t.Fatalf("ParseValue(%q) = %q: a string result must be the raw text", raw, x)
			}
		default:
			t.Fatalf("ParseValue(%q) = %#v: unexpected type %T", raw, v, v)
		}
	})
}

// sameJSON compares decoded JSON values, numbers by value: int64(1) and
// float64(1) are the same JSON number.
func sameJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case int64:
		switch y := b.(type) {
		case int64:
			return x == y
		case float64:
			return sameNumber(x, y)
		}
		return false
	case float64:
		switch y := b.(type) {
		case int64:
			return sameNumber(y, x)
		case float64:
			return x == y
		}
		return false
	default:
		return reflect.DeepEqual(a, b)
	}
}

func sameNumber(i int64, f float64) bool {
	return f == math.Trunc(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0 && int64(f) == i
}

// TestParseValueMatchesDecodeRecordNumbers pins the JSON number rule to the
// root package's: the same object through both gives the same types.
func TestParseValueJSONNumbers(t *testing.T) {
	raw := `{"i":3,"f":3.5,"e":1e2,"neg":-4,"big":18446744073709551616}`
	got := ParseValue(raw).(map[string]any)
	want := map[string]any{"i": int64(3), "f": 3.5, "e": 100.0, "neg": int64(-4), "big": 18446744073709551616.0}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(got); err != nil {
		t.Fatal(err)
	}
}
