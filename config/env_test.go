package config

import (
	"reflect"
	"testing"
)

func fixedEnviron(vars ...string) func() []string {
	return func() []string { return append([]string(nil), vars...) }
}

func TestEnvVarName(t *testing.T) {
	cases := []struct {
		opts []EnvOption
		key  string
		want string
	}{
		{nil, "baldur.sla.default_hours", "BALDUR__SLA__DEFAULT_HOURS"},
		{nil, "BALDUR.SLA.DEFAULT_HOURS", "BALDUR__SLA__DEFAULT_HOURS"},
		{nil, "flat", "FLAT"},
		{[]EnvOption{WithPrefix("APP")}, "sla.hours", "APP__SLA__HOURS"},
		{[]EnvOption{WithPrefix("app")}, "sla.hours", "app__SLA__HOURS"},
		{[]EnvOption{WithPrefix("APP"), WithSeparator("_")}, "sla.hours", "APP_SLA_HOURS"},
		{[]EnvOption{WithSeparator("-")}, "a.b", "A-B"},
	}
	for _, c := range cases {
		if got := NewEnv(c.opts...).VarName(c.key); got != c.want {
			t.Errorf("VarName(%q) = %q, want %q", c.key, got, c.want)
		}
	}
}

func TestEnvGet(t *testing.T) {
	e := NewEnv(WithPrefix("APP"), WithEnviron(fixedEnviron(
		"APP__SLA__HOURS=24",
		"APP__RATE=0.5",
		"APP__ON=TRUE",
		"APP__EMPTY=",
		"APP__JSON={\"a\":[1,2.5]}",
		"APP__NAME=baldur",
		"APP__VERSION=1.2.3",
		"APP__DUP=first",
		"APP__DUP=second",
		"SLA__HOURS=99",
		"APP__EQ=a=b",
	)))
	cases := []struct {
		key  string
		want any
	}{
		{"sla.hours", int64(24)},
		{"SLA.HOURS", int64(24)},
		{"rate", 0.5},
		{"on", true},
		{"empty", ""},
		{"json", map[string]any{"a": []any{int64(1), 2.5}}},
		{"name", "baldur"},
		{"version", "1.2.3"},
		{"dup", "second"},
		{"eq", "a=b"},
		{"missing", "def"},
	}
	for _, c := range cases {
		if got := e.Get(c.key, "def"); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Get(%q) = %#v, want %#v", c.key, got, c.want)
		}
	}
	if got := e.GetNested([]string{"sla", "hours"}, 0); got != int64(24) {
		t.Errorf("GetNested = %#v", got)
	}
	if got := e.GetInt("sla.hours", 0); got != 24 {
		t.Errorf("GetInt = %d", got)
	}
	if got := e.GetBool("on", false); !got {
		t.Errorf("GetBool = %v", got)
	}
	if got := e.GetFloat("rate", 0); got != 0.5 {
		t.Errorf("GetFloat = %v", got)
	}
	if got := e.GetString("empty", "def"); got != "" {
		t.Errorf(`GetString of a set-but-empty variable = %q, want ""`, got)
	}
	if got := e.GetString("json", ""); got != `{"a":[1,2.5]}` {
		t.Errorf("GetString(json) = %q", got)
	}
	if got := e.GetInt("missing", 5); got != 5 {
		t.Errorf("GetInt(missing) = %d", got)
	}
	if got := e.GetInt("name", 5); got != 5 {
		t.Errorf("GetInt(non-number) = %d", got)
	}
}

func TestEnvProcessEnvironment(t *testing.T) {
	t.Setenv("BALDURTEST__SLA__DEFAULT_HOURS", "36")
	e := NewEnv()
	if got := e.GetInt("baldurtest.sla.default_hours", 0); got != 36 {
		t.Fatalf("GetInt = %d, want 36", got)
	}
	if got := e.GetSection("baldurtest"); !reflect.DeepEqual(got, map[string]any{"sla": map[string]any{"default_hours": int64(36)}}) {
		t.Fatalf("GetSection = %#v", got)
	}
}

func TestEnvGetSection(t *testing.T) {
	e := NewEnv(WithEnviron(fixedEnviron(
		"BALDUR__SLA__DEFAULT_HOURS=24",
		"BALDUR__SLA__ON=yes",
		"BALDUR__NAME=b",
		"BALDUR__A__B=1",       // scalar
		"BALDUR__A__B__C=2",    // object below it: the object wins
		"BALDUR__J={\"x\":1}",  // JSON object
		"BALDUR__J__Y=2",       // merges into it
		"BALDUR__BAD____X=1",   // empty part: skipped
		"BALDUR__TRAIL__=1",    // empty last part: skipped
		"BALDUR__=1",           // nothing after the section: skipped
		"BALDURX__NOT=1",       // another section
		"OTHER__SLA__HOURS=99", // another section
		"NOEQUALS",
	)))
	want := map[string]any{
		"sla":  map[string]any{"default_hours": int64(24), "on": "yes"},
		"name": "b",
		"a":    map[string]any{"b": map[string]any{"c": int64(2)}},
		"j":    map[string]any{"x": int64(1), "y": int64(2)},
	}
	if got := e.GetSection("baldur"); !reflect.DeepEqual(got, want) {
		t.Fatalf("GetSection:\n got %#v\nwant %#v", got, want)
	}
	if got := e.GetSection("BALDUR.SLA"); !reflect.DeepEqual(got, want["sla"]) {
		t.Fatalf("GetSection(BALDUR.SLA) = %#v", got)
	}
	if got := e.GetSection("nothing"); got == nil || len(got) != 0 {
		t.Fatalf("GetSection(nothing) = %#v, want empty non-nil", got)
	}
}

// TestEnvGetSectionOrderIndependent: the same variables in any order give the
// same section.
func TestEnvGetSectionOrderIndependent(t *testing.T) {
	vars := []string{"S__A=1", "S__A__B=2", "S__a__c=3", "S__J={\"k\":1}", "S__J__L=2", "S__x=lower", "S__X=upper"}
	var first map[string]any
	for i := range len(vars) {
		rot := append(append([]string(nil), vars[i:]...), vars[:i]...)
		rev := make([]string, len(rot))
		for j := range rot {
			rev[len(rot)-1-j] = rot[j]
		}
		for _, order := range [][]string{rot, rev} {
			got := NewEnv(WithEnviron(fixedEnviron(order...))).GetSection("s")
			if first == nil {
				first = got
				continue
			}
			if !reflect.DeepEqual(got, first) {
				t.Fatalf("order %v gave %#v, other order gave %#v", order, got, first)
			}
		}
	}
	want := map[string]any{
		"a": map[string]any{"b": int64(2), "c": int64(3)},
		"j": map[string]any{"k": int64(1), "l": int64(2)},
		"x": "lower", // S__x sorts after S__X
	}
	if !reflect.DeepEqual(first, want) {
		t.Fatalf("got %#v, want %#v", first, want)
	}
}

// TestEnvGetSectionDuplicateNames: a name set twice keeps its last entry,
// as Lookup does, even when the first is a JSON object.
func TestEnvGetSectionDuplicateNames(t *testing.T) {
	e := NewEnv(WithEnviron(fixedEnviron("S__A={\"k\":1}", "S__A=later", "S__B=1", "S__B={\"k\":2}")))
	want := map[string]any{"a": "later", "b": map[string]any{"k": int64(2)}}
	if got := e.GetSection("s"); !reflect.DeepEqual(got, want) {
		t.Fatalf("GetSection = %#v, want %#v", got, want)
	}
	if got := e.Get("s.a", nil); got != "later" {
		t.Fatalf("Get(s.a) = %#v", got)
	}
}

func TestEnvGetSectionWithPrefix(t *testing.T) {
	e := NewEnv(WithPrefix("APP"), WithEnviron(fixedEnviron("APP__SLA__H=1", "APP__TOP=x", "SLA__H=2", "PATH=/bin")))
	if got := e.GetSection("sla"); !reflect.DeepEqual(got, map[string]any{"h": int64(1)}) {
		t.Fatalf("GetSection(sla) = %#v", got)
	}
	if got := e.GetSection(""); !reflect.DeepEqual(got, map[string]any{"sla": map[string]any{"h": int64(1)}, "top": "x"}) {
		t.Fatalf("GetSection(\"\") with a prefix = %#v", got)
	}
}

func TestEnvOptionsCheckInput(t *testing.T) {
	for name, f := range map[string]func(){
		"empty separator":      func() { WithSeparator("") },
		"separator with =":     func() { WithSeparator("=") },
		"prefix with =":        func() { WithPrefix("A=B") },
		"prefix with NUL":      func() { WithPrefix("A\x00") },
		"nil environ function": func() { WithEnviron(nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}
