package config

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
)

func TestDictGet(t *testing.T) {
	d := NewDict(testTree())
	cases := []struct {
		key  string
		want any
	}{
		{"BALDUR.SLA.DEFAULT_HOURS", int64(24)},
		{"BALDUR.NAME", "baldur"},
		{"BALDUR.SLA.OFF", nil}, // explicit null is returned as null, not the default
		{"BALDUR.SLA.MISSING", "def"},
		{"BALDUR.NAME.X", "def"}, // non-object on the way
		{"missing", "def"},
	}
	for _, c := range cases {
		if got := d.Get(c.key, "def"); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Get(%q) = %#v, want %#v", c.key, got, c.want)
		}
	}
	if got := d.GetNested([]string{"BALDUR", "SLA", "DEFAULT_HOURS"}, 0); got != int64(24) {
		t.Errorf("GetNested = %#v", got)
	}
	if got := d.GetNested([]string{"BALDUR", "SLA", "OFF"}, "def"); got != nil {
		t.Errorf("GetNested of a null = %#v, want nil", got)
	}
	if got := d.GetNested([]string{"BALDUR", "NOPE"}, "def"); got != "def" {
		t.Errorf("GetNested missing = %#v", got)
	}
}

func TestDictTypedGetters(t *testing.T) {
	d := NewDict(map[string]any{
		"s": map[string]any{"hours": "24", "on": "yes", "rate": "0.5", "n": nil, "flag": true, "obj": map[string]any{"a": 1}},
	})
	if got := d.GetInt("s.hours", 1); got != 24 {
		t.Errorf("GetInt = %d", got)
	}
	if got := d.GetBool("s.on", false); !got {
		t.Errorf("GetBool = %v", got)
	}
	if got := d.GetFloat("s.rate", 0); got != 0.5 {
		t.Errorf("GetFloat = %v", got)
	}
	if got := d.GetString("s.flag", ""); got != "true" {
		t.Errorf("GetString(bool) = %q", got)
	}
	if got := d.GetString("s.obj", ""); got != `{"a":1}` {
		t.Errorf("GetString(object) = %q", got)
	}
	// An explicit null gives each typed getter its default.
	if d.GetInt("s.n", 7) != 7 || d.GetBool("s.n", true) != true || d.GetFloat("s.n", 1.5) != 1.5 || d.GetString("s.n", "d") != "d" {
		t.Error("a null did not give the typed defaults")
	}
	if d.GetInt("s.missing", 7) != 7 || d.GetString("s.hours.x", "d") != "d" {
		t.Error("a missing key did not give the default")
	}
}

func TestDictGetSection(t *testing.T) {
	d := NewDict(testTree())
	sla := d.GetSection("BALDUR.SLA")
	if !reflect.DeepEqual(sla, map[string]any{"DEFAULT_HOURS": int64(24), "OFF": nil}) {
		t.Fatalf("GetSection = %#v", sla)
	}
	for _, name := range []string{"BALDUR.NAME", "flat", "missing", "BALDUR.LIST"} {
		got := d.GetSection(name)
		if got == nil || len(got) != 0 {
			t.Errorf("GetSection(%q) = %#v, want an empty non-nil map", name, got)
		}
	}
	if all := d.GetSection(""); !reflect.DeepEqual(all, testTree()) {
		t.Fatalf(`GetSection("") = %#v, want the whole tree`, all)
	}
	// The section is a copy.
	sla["DEFAULT_HOURS"] = int64(1)
	if d.GetInt("BALDUR.SLA.DEFAULT_HOURS", 0) != 24 {
		t.Fatal("mutating a section changed the provider")
	}
}

func TestDictCopiesInAndOut(t *testing.T) {
	in := map[string]any{"a": map[string]any{"b": []any{int64(1)}}}
	d := NewDict(in)
	in["a"].(map[string]any)["b"].([]any)[0] = int64(99)
	in["a"].(map[string]any)["c"] = "new"
	if got := d.Get("a", nil); !reflect.DeepEqual(got, map[string]any{"b": []any{int64(1)}}) {
		t.Fatalf("input mutation leaked in: %#v", got)
	}
	out := d.Get("a", nil).(map[string]any)
	out["b"].([]any)[0] = "changed"
	if got := d.Get("a.b", nil); !reflect.DeepEqual(got, []any{int64(1)}) {
		t.Fatalf("output mutation leaked in: %#v", got)
	}
	v := map[string]any{"x": 1}
	d.Set("k", v)
	v["x"] = 2
	if d.GetInt("k.x", 0) != 1 {
		t.Fatal("Set did not copy its value")
	}
}

func TestDictNormalizesTypedMaps(t *testing.T) {
	d := NewDict(map[string]any{
		"m":   map[string]string{"k": "v"},
		"n":   map[string]map[string]int{"inner": {"x": 3}},
		"arr": []string{"a", "b"},
		"raw": []byte("bytes"),
	})
	if got := d.GetString("m.k", ""); got != "v" {
		t.Errorf("typed map not walkable: %q", got)
	}
	if got := d.GetInt("n.inner.x", 0); got != 3 {
		t.Errorf("nested typed map not walkable: %d", got)
	}
	if got := d.Get("arr", nil); !reflect.DeepEqual(got, []any{"a", "b"}) {
		t.Errorf("typed slice = %#v", got)
	}
	if got := d.Get("raw", nil); !reflect.DeepEqual(got, []byte("bytes")) {
		t.Errorf("bytes = %#v", got)
	}
	if got := NewDict(nil).GetSection(""); len(got) != 0 {
		t.Errorf("NewDict(nil) not empty: %#v", got)
	}
}

func TestDictSet(t *testing.T) {
	d := NewDict(map[string]any{"a": "scalar"})
	d.Set("x.y.z", 5)
	if got := d.GetInt("x.y.z", 0); got != 5 {
		t.Fatalf("Set did not create the path: %d", got)
	}
	d.Set("a.b", true) // a scalar on the way becomes an object
	if got := d.Get("a", nil); !reflect.DeepEqual(got, map[string]any{"b": true}) {
		t.Fatalf("a = %#v", got)
	}
	d.Set("x.y", nil)
	if got := d.Get("x.y", "def"); got != nil {
		t.Fatalf("Set nil: got %#v, want nil", got)
	}
	d.Set("top", 1.5)
	if got := d.GetFloat("top", 0); got != 1.5 {
		t.Fatalf("top = %v", got)
	}
}

func TestDictUpdateDeepMerges(t *testing.T) {
	d := NewDict(map[string]any{
		"BALDUR": map[string]any{"SLA": map[string]any{"HOURS": 24, "KEEP": "k"}, "NAME": "old"},
		"other":  "x",
	})
	d.Update(map[string]any{
		"BALDUR": map[string]any{"SLA": map[string]any{"HOURS": 48}, "NAME": map[string]any{"now": "object"}},
		"new":    []any{1},
		"other":  nil,
	})
	want := map[string]any{
		"BALDUR": map[string]any{"SLA": map[string]any{"HOURS": 48, "KEEP": "k"}, "NAME": map[string]any{"now": "object"}},
		"new":    []any{1},
		"other":  nil,
	}
	if got := d.GetNested(nil, nil); !reflect.DeepEqual(got, want) {
		t.Fatalf("after Update:\n got %#v\nwant %#v", got, want)
	}
	d.Update(nil) // no-op
	if got := d.GetNested(nil, nil); !reflect.DeepEqual(got, want) {
		t.Fatalf("Update(nil) changed the tree: %#v", got)
	}
}

func TestDictConcurrent(t *testing.T) {
	d := NewDict(map[string]any{"a": map[string]any{"n": 0}})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				switch i % 4 {
				case 0:
					d.Set(fmt.Sprintf("a.w%d", w), i)
				case 1:
					d.Update(map[string]any{"a": map[string]any{"n": i}})
				case 2:
					_ = d.GetString("a", "")
					_ = d.GetSection("a")
				default:
					_ = d.GetInt("a.n", 0)
				}
			}
		}()
	}
	wg.Wait()
	for w := range 8 {
		if got := d.GetInt(fmt.Sprintf("a.w%d", w), -1); got != 196 {
			t.Fatalf("a.w%d = %d, want 196 (its last Set)", w, got)
		}
	}
}

func TestDictGetIntDoesNotAllocate(t *testing.T) {
	d := NewDict(testTree())
	allocs := testing.AllocsPerRun(100, func() {
		if d.GetInt("BALDUR.SLA.DEFAULT_HOURS", 0) != 24 || d.GetBool("flat", false) != true || d.GetFloat("flat", 0) != 3.5 {
			t.Fatal("wrong value")
		}
	})
	if allocs != 0 {
		t.Fatalf("typed getters allocate %v times per call", allocs)
	}
}

func TestZeroGettersGiveDefaults(t *testing.T) {
	var g Getters
	if g.GetInt("x", 3) != 3 || g.GetBool("x", true) != true || g.GetFloat("x", 2.5) != 2.5 || g.GetString("x", "d") != "d" {
		t.Fatal("zero Getters did not return defaults")
	}
}

func BenchmarkDictGetInt(b *testing.B) {
	d := NewDict(map[string]any{
		"flat":   int64(7),
		"BALDUR": map[string]any{"SLA": map[string]any{"DEFAULT_HOURS": int64(24)}},
	})
	b.Run("flat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d.GetInt("flat", 0) != 7 {
				b.Fatal("wrong value")
			}
		}
	})
	b.Run("nested", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d.GetInt("BALDUR.SLA.DEFAULT_HOURS", 0) != 24 {
				b.Fatal("wrong value")
			}
		}
	})
}
