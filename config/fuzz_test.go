package config

import (
	"encoding/json"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// intSyntax is Python int()'s decimal syntax after trimming, written as a
// regular expression independently of parseIntText.
var intSyntax = regexp.MustCompile(`^[+-]?[0-9]+(_[0-9]+)*$`)

func FuzzToInt(f *testing.F) {
	for _, s := range []string{"42", " 42 ", "1_000", "-9223372036854775808", "9223372036854775808", "3.5", "_1", "1__0", "+0", "", "٤٢"} {
		f.Add(s)
	}
	const sentinel = math.MinInt + 12345
	f.Fuzz(func(t *testing.T, s string) {
		got := ToInt(s, true, sentinel)
		trimmed := strings.TrimSpace(s)
		want := sentinel
		if intSyntax.MatchString(trimmed) {
			if n, err := strconv.ParseInt(strings.ReplaceAll(trimmed, "_", ""), 10, 64); err == nil {
				want = int(n)
			}
		}
		if got != want {
			t.Fatalf("ToInt(%q) = %d, the oracle says %d", s, got, want)
		}
		// Whatever reads as an int reads as the same float.
		if got != sentinel && math.Abs(float64(got)) < 1<<53 {
			if fl := ToFloat(s, true, math.NaN()); fl != float64(got) {
				t.Fatalf("ToInt(%q) = %d but ToFloat = %v", s, got, fl)
			}
		}
	})
}

func FuzzToFloat(f *testing.F) {
	for _, s := range []string{"3.5", " 3.5 ", "1_000.5", "1e3", "inf", "nan", "0x1p-2", "1e400", "_1.0", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		const def = -0.125
		got := ToFloat(s, true, def)
		if got == def {
			return
		}
		// An accepted text has no hex prefix and reads the same with its
		// underscores removed.
		body := strings.TrimLeft(strings.TrimSpace(s), "+-")
		if strings.HasPrefix(body, "0x") || strings.HasPrefix(body, "0X") {
			t.Fatalf("ToFloat(%q) = %v accepted a hex float", s, got)
		}
		plain, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(s), "_", ""), 64)
		if err != nil || !(plain == got || (math.IsNaN(plain) && math.IsNaN(got))) {
			t.Fatalf("ToFloat(%q) = %v, strconv reads %v (%v)", s, got, plain, err)
		}
		// ParseValue gives the same float when the text has a '.'.
		if strings.Contains(s, ".") && !strings.HasPrefix(s, "{") && !strings.HasPrefix(s, "[") && !math.IsNaN(got) {
			if v := ParseValue(s); v != got {
				t.Fatalf("ToFloat(%q) = %v but ParseValue = %#v", s, got, v)
			}
		}
	})
}

// FuzzEnvGetSection: any set of variables gives a section that does not
// depend on the order of the environment (names unique, as a process
// environment has them) and encodes as JSON.
func FuzzEnvGetSection(f *testing.F) {
	f.Add("S__A=1\nS__A__B=2\nS__a__c=x\nS__J={\"k\":1}\nS__J__L=2\nS__=3\nS____X=4")
	f.Add("S__X=[1,2]\nS__x__y=true")
	f.Fuzz(func(t *testing.T, env string) {
		var vars []string
		seen := map[string]bool{}
		for _, v := range strings.Split(env, "\n") {
			name, _, _ := strings.Cut(v, "=")
			if !seen[name] {
				seen[name] = true
				vars = append(vars, v)
			}
		}
		rev := make([]string, len(vars))
		for i, v := range vars {
			rev[len(vars)-1-i] = v
		}
		a := NewEnv(WithEnviron(func() []string { return vars })).GetSection("s")
		b := NewEnv(WithEnviron(func() []string { return rev })).GetSection("s")
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("order changed the section:\n%#v\n%#v", a, b)
		}
		if a == nil {
			t.Fatal("nil section")
		}
		if _, err := json.Marshal(a); err != nil {
			t.Fatalf("section %#v does not encode: %v", a, err)
		}
	})
}
