package baldur_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/baldur-go/baldur"
)

func TestEncodeRecord(t *testing.T) {
	good := []struct {
		name string
		in   baldur.Record
		want string
	}{
		{"empty", baldur.Record{}, `{}`},
		{"compact with sorted keys", baldur.Record{"b": "x", "a": 1, "c": []any{true, nil, 2.5}}, `{"a":1,"b":"x","c":[true,null,2.5]}`},
		{"nested", baldur.Record{"o": map[string]any{"k": int64(-3)}}, `{"o":{"k":-3}}`},
		{"integral float", baldur.Record{"f": 3.0}, `{"f":3}`},
	}
	for _, c := range good {
		b, err := baldur.EncodeRecord(c.in)
		if err != nil || string(b) != c.want {
			t.Errorf("%s: EncodeRecord = %s, %v; want %s", c.name, b, err, c.want)
		}
	}
	bad := []struct {
		name string
		in   baldur.Record
	}{
		{"nil record", nil},
		{"channel", baldur.Record{"c": make(chan int)}},
		{"function", baldur.Record{"f": func() {}}},
		{"NaN", baldur.Record{"n": math.NaN()}},
		{"+Inf", baldur.Record{"n": math.Inf(1)}},
		{"-Inf nested", baldur.Record{"o": map[string]any{"n": math.Inf(-1)}}},
		{"complex", baldur.Record{"c": complex(1, 2)}},
	}
	for _, c := range bad {
		b, err := baldur.EncodeRecord(c.in)
		if !errors.Is(err, baldur.ErrInvalidArgument) || b != nil {
			t.Errorf("%s: EncodeRecord = %s, %v; want ErrInvalidArgument", c.name, b, err)
		}
	}
}

func TestDecodeRecord(t *testing.T) {
	in := `{"int":3,"neg":-7,"float":3.5,"exp":1e2,"zero":0,"big":9223372036854775807,"bigger":9223372036854775808,` +
		`"str":"s","t":true,"null":null,"arr":[1,2.5,{"x":4}],"obj":{"deep":{"n":10,"f":0.25}}}`
	got, err := baldur.DecodeRecord([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := baldur.Record{
		"int":    int64(3),
		"neg":    int64(-7),
		"float":  3.5,
		"exp":    100.0, // written with an exponent: not an integer literal
		"zero":   int64(0),
		"big":    int64(math.MaxInt64),
		"bigger": 9223372036854775808.0, // does not fit int64
		"str":    "s",
		"t":      true,
		"null":   nil,
		"arr":    []any{int64(1), 2.5, map[string]any{"x": int64(4)}},
		"obj":    map[string]any{"deep": map[string]any{"n": int64(10), "f": 0.25}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeRecord:\n got %#v\nwant %#v", got, want)
	}
	if ws, err := baldur.DecodeRecord([]byte(" {\"a\":1}\n ")); err != nil || ws["a"] != int64(1) {
		t.Fatalf("surrounding whitespace: %v, %v", ws, err)
	}
	for _, bad := range []string{"", "null", "[]", "1", `"s"`, "{", `{"a":}`, `{"a":1}{}`, `{"a":1} x`, "{'a':1}"} {
		r, err := baldur.DecodeRecord([]byte(bad))
		if !errors.Is(err, baldur.ErrInvalidArgument) || r != nil {
			t.Errorf("DecodeRecord(%q) = %v, %v; want ErrInvalidArgument", bad, r, err)
		}
	}
}

func TestCloneRecord(t *testing.T) {
	orig := baldur.Record{"n": 1, "o": map[string]any{"l": []any{"a"}}}
	c, err := baldur.CloneRecord(orig)
	if err != nil {
		t.Fatal(err)
	}
	c["o"].(map[string]any)["l"].([]any)[0] = "changed"
	c["n"] = 2
	if orig["o"].(map[string]any)["l"].([]any)[0] != "a" || orig["n"] != 1 {
		t.Fatal("mutating the clone changed the original")
	}
	if c2, _ := baldur.CloneRecord(orig); c2["n"] != int64(1) {
		t.Fatalf("clone number is %#v, want int64(1)", c2["n"])
	}
	if _, err := baldur.CloneRecord(baldur.Record{"c": make(chan int)}); !errors.Is(err, baldur.ErrInvalidArgument) {
		t.Fatalf("CloneRecord of an unencodable record: %v", err)
	}
}

func TestVersionMatches(t *testing.T) {
	cases := []struct {
		name     string
		rec      baldur.Record
		expected int64
		want     bool
	}{
		{"int", baldur.Record{"version": 3}, 3, true},
		{"int64", baldur.Record{"version": int64(3)}, 3, true},
		{"float64 integral", baldur.Record{"version": float64(3)}, 3, true},
		{"json.Number", baldur.Record{"version": json.Number("3")}, 3, true},
		{"json.Number 3.0", baldur.Record{"version": json.Number("3.0")}, 3, true},
		{"int32", baldur.Record{"version": int32(3)}, 3, true},
		{"uint64", baldur.Record{"version": uint64(3)}, 3, true},
		{"float32", baldur.Record{"version": float32(3)}, 3, true},
		{"int differs", baldur.Record{"version": 3}, 4, false},
		{"fraction matches nothing (3)", baldur.Record{"version": 3.5}, 3, false},
		{"fraction matches nothing (4)", baldur.Record{"version": 3.5}, 4, false},
		{"string is not a number", baldur.Record{"version": "3"}, 3, false},
		{"bool is not a number", baldur.Record{"version": true}, 1, false},
		{"absent is 0", baldur.Record{"other": 1}, 0, true},
		{"absent is not 3", baldur.Record{}, 3, false},
		{"null is 0", baldur.Record{"version": nil}, 0, true},
		{"null is not 1", baldur.Record{"version": nil}, 1, false},
		{"explicit 0", baldur.Record{"version": 0}, 0, true},
		{"negative", baldur.Record{"version": int64(-2)}, -2, true},
		{"max int64", baldur.Record{"version": int64(math.MaxInt64)}, math.MaxInt64, true},
		{"uint64 beyond int64", baldur.Record{"version": uint64(math.MaxUint64)}, -1, false},
		{"float 2^63 beyond int64", baldur.Record{"version": 9223372036854775808.0}, math.MinInt64, false},
		{"NaN", baldur.Record{"version": math.NaN()}, 0, false},
		{"nil record is version 0", nil, 0, true},
	}
	for _, c := range cases {
		if got := baldur.VersionMatches(c.rec, c.expected); got != c.want {
			t.Errorf("%s: VersionMatches(%#v, %d) = %v, want %v", c.name, c.rec, c.expected, got, c.want)
		}
	}
}

func TestVersionOf(t *testing.T) {
	cases := []struct {
		rec  baldur.Record
		want int64
	}{
		{baldur.Record{"version": int64(7)}, 7},
		{baldur.Record{"version": 7.0}, 7},
		{baldur.Record{"version": json.Number("7")}, 7},
		{baldur.Record{"version": 7.5}, 0},
		{baldur.Record{"version": "7"}, 0},
		{baldur.Record{"version": nil}, 0},
		{baldur.Record{}, 0},
	}
	for _, c := range cases {
		if got := baldur.VersionOf(c.rec); got != c.want {
			t.Errorf("VersionOf(%#v) = %d, want %d", c.rec, got, c.want)
		}
	}
}

func TestAsInt64(t *testing.T) {
	cases := []struct {
		in   any
		want int64
		ok   bool
	}{
		{int8(-8), -8, true},
		{uint8(200), 200, true},
		{uint(5), 5, true},
		{-9223372036854775808.0, math.MinInt64, true},
		{9223372036854775807.0, 0, false}, // this float is 2^63
		{math.Inf(-1), 0, false},
		{json.Number("1e3"), 1000, true},
		{json.Number("1.5"), 0, false},
		{json.Number("x"), 0, false},
		{json.Number("9223372036854775808"), 0, false},
		{"3", 0, false},
		{nil, 0, false},
	}
	for _, c := range cases {
		got, ok := baldur.AsInt64(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("AsInt64(%#v) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// sameJSON compares decoded JSON values with numbers by value: float64(1)
// and int64(1) are the same JSON number (1.0 decodes as float64, re-encodes
// as 1 and decodes as int64).
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
	case int64, float64:
		fx, fy := toFloat(a), toFloat(b)
		if fx == nil || fy == nil {
			return false
		}
		ix, okx := baldur.AsInt64(a)
		iy, oky := baldur.AsInt64(b)
		if okx || oky {
			return okx && oky && ix == iy
		}
		return *fx == *fy
	default:
		return reflect.DeepEqual(a, b)
	}
}

func toFloat(v any) *float64 {
	switch x := v.(type) {
	case int64:
		f := float64(x)
		return &f
	case float64:
		return &x
	}
	return nil
}

func FuzzDecodeRecord(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":1.0,"b":[1e2,-0,0.5]}`, `{"v":9223372036854775808}`, `{"x":{"y":[null,true,"s"]}}`, `{"n":1e999}`, `[]`, `null`, `{"a":"\ud800"}`, "{\"a\":\"\xff\"}", `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r1, err := baldur.DecodeRecord(data)
		if err != nil {
			if !errors.Is(err, baldur.ErrInvalidArgument) || r1 != nil {
				t.Fatalf("DecodeRecord(%q) = %v, %v: a failure must be a nil record and ErrInvalidArgument", data, r1, err)
			}
			return
		}
		if r1 == nil {
			t.Fatalf("DecodeRecord(%q) returned a nil record and no error", data)
		}
		b2, err := baldur.EncodeRecord(r1)
		if err != nil {
			t.Fatalf("decoded %q to %#v, which does not re-encode: %v", data, r1, err)
		}
		r2, err := baldur.DecodeRecord(b2)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", b2, err)
		}
		if !sameJSON(r1, r2) {
			t.Fatalf("round trip changed the record:\n first %#v\nsecond %#v", r1, r2)
		}
		// After one round trip the encoding is a fixed point.
		b3, err := baldur.EncodeRecord(r2)
		if err != nil || !bytes.Equal(b2, b3) {
			t.Fatalf("second encoding differs: %s vs %s (%v)", b2, b3, err)
		}
		if strings.ContainsAny(string(b2), "\n") {
			t.Fatalf("encoding is not compact: %q", b2)
		}
	})
}
