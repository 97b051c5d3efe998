package consulconfig

import (
	"strings"
	"testing"

	"github.com/baldur-go/baldur/config"
)

// checkTree fails unless v holds only the types the package promises.
func checkTree(t *testing.T, v any, depth int) {
	if depth > maxDepth+2 {
		t.Fatalf("tree deeper than %d", maxDepth)
	}
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			checkTree(t, e, depth+1)
		}
	case []any:
		for _, e := range x {
			checkTree(t, e, depth+1)
		}
	case string, bool, int64, float64, nil:
	default:
		t.Fatalf("unexpected type %T in a parsed tree", v)
	}
}

// checkFlat fails unless every dotted key of the snapshot's index reaches
// the same node through the tree.
func checkFlat(t *testing.T, s *snapshot) {
	for k := range s.flat {
		if _, ok := config.LookupPath(s.tree, k); !ok {
			t.Fatalf("flat key %q not in the tree", k)
		}
	}
}

func FuzzParseDocument(f *testing.F) {
	for _, seed := range []string{
		"", "{}", "a: 1\nb: [x, 2.5, true, ~]\n", `{"a": {"b": [1, 2, {"c": null}]}}`,
		"- 1\n- 2\n", "x", "{bad", "a: &x [1]\nb: *x\n", "? [1, 2]\n: v\n", "1: one\n2: two\n",
		"t: 2001-12-14t21:59:43.10-05:00\n", "b: !!binary aGVsbG8=\n", `{"n": 1e400}`, "a:\n  b:\n    c: d\n",
		strings.Repeat("[", 200) + strings.Repeat("]", 200),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tree, err := parseDocument(data)
		if err != nil {
			if tree != nil {
				t.Fatal("a tree with an error")
			}
			return
		}
		if tree == nil {
			t.Fatal("nil tree without an error")
		}
		checkTree(t, tree, 0)
		// Merging is a copy: the merged tree holds every flat key, and
		// merging into it never touches the source.
		dst := map[string]any{}
		mergeTree(dst, tree)
		mergeTree(dst, tree)
		for k := range flatten(tree) {
			if _, ok := config.LookupPath(dst, k); !ok {
				t.Fatalf("key %q lost by the merge", k)
			}
		}
		b := builder{prefix: "config/", documents: []string{"config/doc"}, maxValueSize: 1 << 20}
		s, _ := b.build([]pair{{Key: "config/doc", Value: data}}, 1, nil, "consul")
		checkFlat(t, s)
	})
}

func FuzzBuildSnapshot(f *testing.F) {
	f.Add("BALDUR/SLA/DEFAULT_HOURS", []byte("24"), "BALDUR/SLA", []byte(`{"x": 1}`))
	f.Add("a", []byte("1"), "a/b", []byte("2"))
	f.Add("a.b/c", []byte("[1"), "//", []byte(nil))
	f.Add("x/", []byte("{}"), "x/y", []byte("null"))
	f.Fuzz(func(t *testing.T, k1 string, v1 []byte, k2 string, v2 []byte) {
		pairs := []pair{{Key: "config/" + k1, Value: v1}, {Key: "config/" + k2, Value: v2}}
		if pairs[1].Key < pairs[0].Key {
			pairs[0], pairs[1] = pairs[1], pairs[0]
		}
		b := builder{prefix: "config/", maxValueSize: 64}
		s, _ := b.build(pairs, 7, nil, "consul")
		checkTree(t, s.tree, 0)
		checkFlat(t, s)
		// A key that stands alone, with plain segments, reads back at its
		// dotted name.
		if k1 != k2 && !strings.HasSuffix(k1, "/") && !strings.HasPrefix(k2, k1) && !strings.HasPrefix(k1, k2) {
			segs := splitKey(k1)
			plain := len(segs) > 0
			for _, sg := range segs {
				if strings.Contains(sg, ".") {
					plain = false
				}
			}
			if plain {
				if _, ok := s.flat[strings.Join(segs, ".")]; !ok {
					t.Fatalf("key %q not readable as %q", k1, strings.Join(segs, "."))
				}
			}
		}
		_ = s.dump()
		_ = diff(emptySnapshot(), s)
	})
}

func FuzzDecodeSnapshotFile(f *testing.F) {
	f.Add([]byte(`{"version":1,"prefix":"config/","index":3,"pairs":[{"key":"config/a","value":"MQ=="}]}`))
	f.Add([]byte(`{"version":1,"pairs":[{"key":"b"},{"key":"a"}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, err := decodeSnapshotFile(data)
		if err != nil {
			return
		}
		for i := 1; i < len(fs.Pairs); i++ {
			if fs.Pairs[i-1].Key >= fs.Pairs[i].Key {
				t.Fatalf("pairs not sorted and unique: %q, %q", fs.Pairs[i-1].Key, fs.Pairs[i].Key)
			}
		}
		b := builder{prefix: fs.Prefix, maxValueSize: 1 << 20}
		s, _ := b.build(fs.Pairs, fs.Index, nil, "file")
		checkTree(t, s.tree, 0)
		checkFlat(t, s)
	})
}
