package config

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"testing"
	"time"
)

type myInt int32
type myString string

var absent = struct{}{} // marks "not present" in the tables

func TestToBool(t *testing.T) {
	cases := []struct {
		name string
		in   any
		def  bool
		want bool
	}{
		{"absent default false", absent, false, false},
		{"absent default true", absent, true, true},
		{"null gives default true", nil, true, true},
		{"null gives default false", nil, false, false},
		{"bool true", true, false, true},
		{"bool false", false, true, false},
		{"string true", "true", false, true},
		{"string TRUE", "TRUE", false, true},
		{"string True", "True", false, true},
		{"string 1", "1", false, true},
		{"string yes", "yes", false, true},
		{"string YES", "YES", false, true},
		{"string on", "on", false, true},
		{"string On", "On", false, true},
		{"string false", "false", true, false},
		{"string 0", "0", true, false},
		{"string no", "no", true, false},
		{"string empty", "", true, false},
		{"string padded true is false", " true", true, false},
		{"string 2 is false", "2", true, false},
		{"string with long s is not yes", "yeſ", true, false},
		{"int non-zero", 5, false, true},
		{"int zero", 0, true, false},
		{"int64 negative", int64(-1), false, true},
		{"float non-zero", 0.5, false, true},
		{"float zero", 0.0, true, false},
		{"NaN is non-zero", math.NaN(), false, true},
		{"uint8 non-zero", uint8(1), false, true},
		{"named int zero", myInt(0), true, false},
		{"named string yes", myString("Yes"), false, true},
		{"json.Number 0", json.Number("0"), true, false},
		{"json.Number 2.5", json.Number("2.5"), false, true},
		{"map gives default", map[string]any{"a": 1}, true, true},
		{"slice gives default", []any{1}, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, present := c.in, c.in != absent
			if got := ToBool(v, present, c.def); got != c.want {
				t.Fatalf("ToBool(%#v, %v, %v) = %v, want %v", c.in, present, c.def, got, c.want)
			}
		})
	}
}

func TestToInt(t *testing.T) {
	const def = -99
	cases := []struct {
		name string
		in   any
		want int
	}{
		{"absent", absent, def},
		{"null", nil, def},
		{"int", 42, 42},
		{"int64", int64(-7), -7},
		{"int8", int8(-8), -8},
		{"uint32", uint32(9), 9},
		{"uint64 in range", uint64(math.MaxInt64), math.MaxInt64},
		{"uint64 out of range", uint64(math.MaxInt64) + 1, def},
		{"named int", myInt(3), 3},
		{"duration is its nanoseconds", time.Duration(5), 5},
		{"float truncates", 3.9, 3},
		{"negative float truncates toward zero", -3.9, -3},
		{"float32 truncates", float32(2.5), 2},
		{"float NaN", math.NaN(), def},
		{"float +Inf", math.Inf(1), def},
		{"float 2^63 out of range", 9223372036854775808.0, def},
		{"float -2^63 in range", -9223372036854775808.0, math.MinInt64},
		{"string", "42", 42},
		{"string padded", " 42 ", 42},
		{"string tab newline", "\t42\n", 42},
		{"string underscores", "1_000", 1000},
		{"string many underscores", "1_000_000", 1000000},
		{"string plus sign", "+5", 5},
		{"string minus sign", "-5", -5},
		{"string leading zeros", "007", 7},
		{"string min int64", "-9223372036854775808", math.MinInt64},
		{"string max int64", "9223372036854775807", math.MaxInt64},
		{"string over max int64", "9223372036854775808", def},
		{"string under min int64", "-9223372036854775809", def},
		{"string huge", "123456789012345678901234567890", def},
		{"string float", "3.5", def},
		{"string float integral", "3.0", def},
		{"string exponent", "1e3", def},
		{"string hex", "0x10", def},
		{"string leading underscore", "_1000", def},
		{"string trailing underscore", "1000_", def},
		{"string double underscore", "1__000", def},
		{"string underscore after sign", "-_1", def},
		{"string empty", "", def},
		{"string spaces only", "   ", def},
		{"string sign only", "-", def},
		{"string inner space", "4 2", def},
		{"string word", "abc", def},
		{"json.Number integer", json.Number("12"), 12},
		{"json.Number float truncates", json.Number("12.7"), 12},
		{"json.Number exponent", json.Number("1e3"), 1000},
		{"bool gives default", true, def},
		{"map gives default", map[string]any{}, def},
		{"slice gives default", []any{1}, def},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, present := c.in, c.in != absent
			if got := ToInt(v, present, def); got != c.want {
				t.Fatalf("ToInt(%#v, %v) = %d, want %d", c.in, present, got, c.want)
			}
		})
	}
}

func TestToFloat(t *testing.T) {
	const def = -99.5
	cases := []struct {
		name string
		in   any
		want float64
	}{
		{"absent", absent, def},
		{"null", nil, def},
		{"float", 3.5, 3.5},
		{"float32", float32(0.25), 0.25},
		{"int", 3, 3},
		{"int64", int64(-4), -4},
		{"uint64", uint64(1 << 63), 9223372036854775808.0},
		{"+Inf stays", math.Inf(1), math.Inf(1)},
		{"string float", "3.5", 3.5},
		{"string padded", " 3.5 ", 3.5},
		{"string integer", "7", 7},
		{"string exponent", "1e3", 1000},
		{"string leading dot", ".5", 0.5},
		{"string trailing dot", "5.", 5},
		{"string negative", "-2.25", -2.25},
		{"string underscores", "1_000.5", 1000.5},
		{"string underscores in fraction", "0.000_5", 0.0005},
		{"string inf", "inf", math.Inf(1)},
		{"string -Infinity", "-Infinity", math.Inf(-1)},
		{"string out of range", "1e400", def},
		{"string hex float", "0x1p-2", def},
		{"string bad underscore", "1_.5", def},
		{"string empty", "", def},
		{"string word", "fast", def},
		{"json.Number", json.Number("2.5"), 2.5},
		{"bool gives default", false, def},
		{"map gives default", map[string]any{}, def},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, present := c.in, c.in != absent
			if got := ToFloat(v, present, def); got != c.want {
				t.Fatalf("ToFloat(%#v, %v) = %v, want %v", c.in, present, got, c.want)
			}
		})
	}
	if got := ToFloat("nan", true, def); !math.IsNaN(got) {
		t.Fatalf(`ToFloat("nan") = %v, want NaN`, got)
	}
}

type stringer struct{}

func (stringer) String() string { return "i am a stringer" }

func TestToString(t *testing.T) {
	const def = "DEF"
	var nilMap map[string]any
	var nilPtr *struct{ A int }
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"absent", absent, def},
		{"null", nil, def},
		{"string", "abc", "abc"},
		{"empty string is a value", "", ""},
		{"true", true, "true"},
		{"false", false, "false"},
		{"int", 3, "3"},
		{"int64 negative", int64(-12), "-12"},
		{"uint64 max", uint64(math.MaxUint64), "18446744073709551615"},
		{"named int", myInt(4), "4"},
		{"float", 3.5, "3.5"},
		{"float integral keeps .0", 3.0, "3.0"},
		{"float negative zero", math.Copysign(0, -1), "-0.0"},
		{"float 0.1", 0.1, "0.1"},
		{"float 1e-4 fixed", 0.0001, "0.0001"},
		{"float 1e-5 scientific", 0.00001, "1e-05"},
		{"float 1e15 fixed", 1e15, "1000000000000000.0"},
		{"float 1e16 scientific", 1e16, "1e+16"},
		{"float 1.5e300", 1.5e300, "1.5e+300"},
		{"float shortest repr", addFloats(0.1, 0.2), "0.30000000000000004"},
		{"float NaN", math.NaN(), "nan"},
		{"float +Inf", math.Inf(1), "inf"},
		{"float -Inf", math.Inf(-1), "-inf"},
		{"float32 shortest", float32(0.1), "0.1"},
		{"json.Number as spelled", json.Number("1.50"), "1.50"},
		{"bytes", []byte("raw"), "raw"},
		{"map compact JSON sorted", map[string]any{"b": 1, "a": []any{true, nil}}, `{"a":[true,null],"b":1}`},
		{"slice compact JSON", []any{1, "x", 2.5}, `[1,"x",2.5]`},
		{"JSON keeps <>&", map[string]any{"h": "<a&b>"}, `{"h":"<a&b>"}`},
		{"typed map JSON", map[string]int{"x": 1}, `{"x":1}`},
		{"nil map is null JSON", nilMap, "null"},
		{"nil pointer gives default", nilPtr, def},
		{"unencodable map gives default", map[string]any{"f": math.NaN()}, def},
		{"stringer", stringer{}, "i am a stringer"},
		{"duration uses String", 1500 * time.Millisecond, "1.5s"},
		{"error uses Error", errors.New("boom"), "boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, present := c.in, c.in != absent
			if got := ToString(v, present, def); got != c.want {
				t.Fatalf("ToString(%#v, %v) = %q, want %q", c.in, present, got, c.want)
			}
		})
	}
}

// TestToStringFloatRoundTrips checks that the Python-style text of a float
// reads back as the same float, over a spread of magnitudes.
func TestToStringFloatRoundTrips(t *testing.T) {
	for _, f := range []float64{1, 1.5, 123.456, 1e-4, 1e-5, 9.999e15, 1e16, 2.5e-300, math.MaxFloat64, math.SmallestNonzeroFloat64, -7.25e21} {
		s := ToString(f, true, "")
		back, err := strconv.ParseFloat(s, 64)
		if err != nil || back != f {
			t.Fatalf("ToString(%v) = %q, reads back as %v (%v)", f, s, back, err)
		}
	}
}

// addFloats adds at run time; 0.1 + 0.2 as constants is exactly 0.3.
func addFloats(a, b float64) float64 { return a + b }
