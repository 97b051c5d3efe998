package config

import (
	"reflect"
	"strings"
	"testing"
)

func testTree() map[string]any {
	return map[string]any{
		"BALDUR": map[string]any{
			"SLA":   map[string]any{"DEFAULT_HOURS": int64(24), "OFF": nil},
			"NAME":  "baldur",
			"LIST":  []any{map[string]any{"x": 1}},
			"EMPTY": map[string]any{},
		},
		"flat": 3.5,
		"":     "empty key",
		"a.b":  "dotted name",
	}
}

func TestLookupPath(t *testing.T) {
	tree := testTree()
	cases := []struct {
		key    string
		want   any
		wantOK bool
	}{
		{"BALDUR.SLA.DEFAULT_HOURS", int64(24), true},
		{"BALDUR.NAME", "baldur", true},
		{"flat", 3.5, true},
		{"BALDUR.SLA.OFF", nil, true},
		{"BALDUR.SLA", tree["BALDUR"].(map[string]any)["SLA"], true},
		{"BALDUR.SLA.MISSING", nil, false},
		{"BALDUR.NAME.X", nil, false},
		{"BALDUR.LIST.0.x", nil, false},
		{"BALDUR.SLA.OFF.X", nil, false},
		{"baldur.sla.default_hours", nil, false},
		{"", "empty key", true},
		{"BALDUR.", nil, false},
		{".flat", nil, false},
		{"a.b", nil, false},
		{"missing", nil, false},
	}
	for _, c := range cases {
		got, ok := LookupPath(tree, c.key)
		if ok != c.wantOK || !reflect.DeepEqual(got, c.want) {
			t.Errorf("LookupPath(%q) = %#v, %v; want %#v, %v", c.key, got, ok, c.want, c.wantOK)
		}
	}
	if _, ok := LookupPath(nil, "x"); ok {
		t.Error("LookupPath(nil tree) found something")
	}
}

func TestLookupKeys(t *testing.T) {
	tree := testTree()
	if v, ok := LookupKeys(tree, []string{"BALDUR", "SLA", "DEFAULT_HOURS"}); !ok || v != int64(24) {
		t.Fatalf("got %#v, %v", v, ok)
	}
	if v, ok := LookupKeys(tree, []string{"a.b"}); !ok || v != "dotted name" {
		t.Fatalf("a key with a dot is one step: got %#v, %v", v, ok)
	}
	if _, ok := LookupKeys(tree, []string{"BALDUR", "NAME", "X"}); ok {
		t.Fatal("walked through a string")
	}
	if v, ok := LookupKeys(tree, nil); !ok || !reflect.DeepEqual(v, tree) {
		t.Fatalf("no keys: got %#v, %v; want the tree", v, ok)
	}
	if _, ok := LookupKeys(nil, nil); ok {
		t.Fatal("no keys on a nil tree found something")
	}
}

func TestLookupPathDoesNotAllocate(t *testing.T) {
	tree := testTree()
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := LookupPath(tree, "BALDUR.SLA.DEFAULT_HOURS"); !ok {
			t.Fatal("not found")
		}
	})
	if allocs != 0 {
		t.Fatalf("LookupPath allocates %v times per call", allocs)
	}
}

func FuzzLookupPath(f *testing.F) {
	for _, s := range []string{"BALDUR.SLA.DEFAULT_HOURS", "", ".", "..", "a.b", "BALDUR..SLA", "flat.x", "BALDUR.SLA.OFF"} {
		f.Add(s)
	}
	tree := testTree()
	f.Fuzz(func(t *testing.T, key string) {
		v1, ok1 := LookupPath(tree, key)
		v2, ok2 := LookupKeys(tree, strings.Split(key, "."))
		if ok1 != ok2 || !reflect.DeepEqual(v1, v2) {
			t.Fatalf("LookupPath(%q) = %#v, %v; LookupKeys(Split) = %#v, %v", key, v1, ok1, v2, ok2)
		}
	})
}
