package consulconfig

import (
	"bytes"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/baldur-go/baldur/config"
)

// pair is one raw KV entry as Consul returned it.
type pair struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

// snapshot is one immutable version of the configuration. Nothing in it is
// modified after build returns; readers share it without a lock.
type snapshot struct {
	index  uint64
	pairs  []pair              // raw entries, sorted by key
	tree   map[string]any      // merged nested tree
	flat   map[string]any      // dotted path -> value, for every node reachable by a dotted key
	docs   map[string]docState // parsed documents by Consul key
	source string              // "empty", "file" or "consul"
	at     time.Time
}

type docState struct {
	raw  []byte         // the document's text as last seen
	tree map[string]any // its last good parse (nil if it never parsed)
}

// problem is something about the data worth a log line and an error count;
// none of them stops a snapshot from being built.
type problem struct {
	kind string // "document", "oversized", "shadowed"
	key  string // Consul key
	err  error
}

func emptySnapshot() *snapshot {
	return &snapshot{tree: map[string]any{}, flat: map[string]any{}, docs: map[string]docState{}, source: "empty"}
}

// samePairs reports whether Consul's answer equals the snapshot's entries.
// Consul lists keys sorted, and so are snapshot pairs.
func samePairs(a []pair, b []pair) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

// builder turns raw entries into a snapshot.
type builder struct {
	prefix       string
	documents    []string
	maxValueSize int
}

// build makes a snapshot from pairs (sorted by key). prev supplies the last
// good parse of a document that no longer parses; it may be nil.
func (b *builder) build(pairs []pair, index uint64, prev *snapshot, source string) (*snapshot, []problem) {
	var problems []problem
	s := &snapshot{
		index:  index,
		pairs:  pairs,
		tree:   map[string]any{},
		docs:   map[string]docState{},
		source: source,
		at:     time.Now(),
	}
	isDoc := make(map[string]bool, len(b.documents))
	byKey := make(map[string][]byte, len(b.documents))
	for _, d := range b.documents {
		isDoc[d] = true
	}
	for _, p := range pairs {
		if isDoc[p.Key] {
			byKey[p.Key] = p.Value
		}
	}
	// Documents first, in the order given.
	for _, d := range b.documents {
		raw, ok := byKey[d]
		if !ok {
			continue
		}
		if prev != nil {
			if old, ok := prev.docs[d]; ok && bytes.Equal(old.raw, raw) {
				s.docs[d] = old // unchanged since the last build: reuse it
				mergeTree(s.tree, old.tree)
				continue
			}
		}
		tree, err := b.parseDocument(raw)
		if err != nil {
			problems = append(problems, problem{kind: "document", key: d, err: err})
			// Keep the last good parse of this document, if any, under the
			// new raw text, so the same broken text is reported once.
			st := docState{raw: raw}
			if prev != nil {
				st.tree = prev.docs[d].tree
			}
			s.docs[d] = st
			mergeTree(s.tree, st.tree)
			continue
		}
		s.docs[d] = docState{raw: raw, tree: tree}
		mergeTree(s.tree, tree)
	}

	// Then every ordinary key; keys win over documents.
	for _, p := range pairs {
		if isDoc[p.Key] || strings.HasSuffix(p.Key, "/") || !strings.HasPrefix(p.Key, b.prefix) {
			continue
		}
		segs := splitKey(p.Key[len(b.prefix):])
		if len(segs) == 0 {
			continue
		}
		var v any
		if len(p.Value) > b.maxValueSize {
			problems = append(problems, problem{kind: "oversized", key: p.Key})
			v = string(p.Value)
		} else {
			v = config.ParseValue(string(p.Value))
		}
		if setPath(s.tree, segs, v) {
			problems = append(problems, problem{kind: "shadowed", key: p.Key})
		}
	}
	s.flat = flatten(s.tree)
	return s, problems
}

// splitKey splits a Consul key (prefix removed) into its path segments,
// dropping empty ones ("a//b" is a/b).
func splitKey(rel string) []string {
	parts := strings.Split(rel, "/")
	out := parts[:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// setPath puts v at the path. An object on the way or at the end wins over a
// scalar (objects merge); it returns true when a scalar was shadowed that way.
func setPath(tree map[string]any, segs []string, v any) (shadowed bool) {
	node := tree
	for _, seg := range segs[:len(segs)-1] {
		next, ok := node[seg].(map[string]any)
		if !ok {
			if _, had := node[seg]; had {
				shadowed = true
			}
			next = map[string]any{}
			node[seg] = next
		}
		node = next
	}
	last := segs[len(segs)-1]
	old, had := node[last]
	oldMap, oldIsMap := old.(map[string]any)
	newMap, newIsMap := v.(map[string]any)
	switch {
	case oldIsMap && newIsMap:
		mergeTree(oldMap, newMap)
	case oldIsMap:
		shadowed = true
	case newIsMap:
		if had {
			shadowed = true
		}
		m := map[string]any{}
		mergeTree(m, newMap)
		node[last] = m
	default:
		node[last] = v
	}
	return shadowed
}

// mergeTree deep-merges src into dst. Maps are copied, never shared, so dst
// owns every map it holds; other values (immutable from here on) are shared.
// Where one side is an object and the other not, src wins.
func mergeTree(dst, src map[string]any) {
	for k, sv := range src {
		sm, sIsMap := sv.(map[string]any)
		if !sIsMap {
			dst[k] = sv
			continue
		}
		dm, dIsMap := dst[k].(map[string]any)
		if !dIsMap {
			dm = make(map[string]any, len(sm))
			dst[k] = dm
		}
		mergeTree(dm, sm)
	}
}

// flatten indexes every node reachable by a dotted key: each path whose
// segments hold no dot, joined by dots.
func flatten(tree map[string]any) map[string]any {
	flat := make(map[string]any)
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if k == "" || strings.Contains(k, ".") {
				continue
			}
			key := k
			if prefix != "" {
				key = prefix + "." + k
			}
			flat[key] = v
			if sub, ok := v.(map[string]any); ok {
				walk(key, sub)
			}
		}
	}
	walk("", tree)
	return flat
}

// leaves lists the leaf values by dotted key: every node that is not a
// non-empty object. Change sets are computed over leaves.
func (s *snapshot) leaves() map[string]any {
	out := make(map[string]any, len(s.flat))
	for k, v := range s.flat {
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			continue
		}
		out[k] = v
	}
	return out
}

// Change is what OnChange delivers: the dotted keys (leaves) added, changed
// and removed since the last delivered version, each sorted, and the Consul
// index of the new version.
type Change struct {
	Added   []string
	Changed []string
	Removed []string
	Index   uint64
}

// Empty reports whether the change lists no key.
func (c Change) Empty() bool {
	return len(c.Added) == 0 && len(c.Changed) == 0 && len(c.Removed) == 0
}

func diff(old, cur *snapshot) Change {
	a, b := old.leaves(), cur.leaves()
	var c Change
	for k, v := range b {
		ov, ok := a[k]
		switch {
		case !ok:
			c.Added = append(c.Added, k)
		case !reflect.DeepEqual(ov, v):
			c.Changed = append(c.Changed, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			c.Removed = append(c.Removed, k)
		}
	}
	sort.Strings(c.Added)
	sort.Strings(c.Changed)
	sort.Strings(c.Removed)
	c.Index = cur.index
	return c
}

// clone returns a deep copy of maps and slices; other values are returned
// as they are (they are immutable).
func clone(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return cloneMap(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = clone(e)
		}
		return out
	}
	return v
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = clone(e)
	}
	return out
}
