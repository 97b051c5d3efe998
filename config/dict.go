package config

import (
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
)

// Dict is a configuration provider over an in-memory tree of nested
// map[string]any, for tests and simple deployments. It is safe for
// concurrent use. The tree is copy-on-write: a published tree is never
// mutated; Set and Update (serialised by a mutex) copy the maps on the path
// they change, share the rest and publish the new root atomically, so a read
// takes no lock and sees one consistent tree. Every map or slice handed in
// or out is a deep copy, so neither side can change the other's data.
//
// A missing step, or a non-object on the way, gives the default; an
// explicit nil is a value and Get returns it as nil (the typed getters, which
// cannot return null, give their default for it).
type Dict struct {
	Getters

	mu   sync.Mutex                     // serialises writers
	tree atomic.Pointer[map[string]any] // published tree, never mutated
}

var (
	_ ConfigProvider = (*Dict)(nil)
	_ Lookuper       = (*Dict)(nil)
)

// NewDict returns a provider over a deep copy of tree (nil: empty). While
// copying, maps with string keys of any type become map[string]any and
// slices and arrays (other than []byte) become []any, so that every nested
// object is reachable by a dotted key.
func NewDict(tree map[string]any) *Dict {
	root := make(map[string]any, len(tree))
	for k, v := range tree {
		root[k] = deepCopy(v)
	}
	d := &Dict{}
	d.tree.Store(&root)
	d.Getters = NewGetters(d)
	return d
}

// Lookup implements Lookuper: the value at the dotted key, maps and slices
// copied. It does not allocate for a scalar.
func (d *Dict) Lookup(key string) (any, bool) {
	v, ok := LookupPath(*d.tree.Load(), key)
	if ok {
		v = copyComposite(v)
	}
	return v, ok
}

// Get returns the value at the dotted key, def when it is absent, nil for an
// explicit null.
func (d *Dict) Get(key string, def any) any {
	if v, ok := d.Lookup(key); ok {
		return v
	}
	return def
}

// GetNested returns the value at the path of keys (a key is not split on
// '.'), def when absent. No keys returns a copy of the whole tree.
func (d *Dict) GetNested(keys []string, def any) any {
	if v, ok := LookupKeys(*d.tree.Load(), keys); ok {
		return copyComposite(v)
	}
	return def
}

// GetSection returns a copy of the object at the dotted name; an empty map
// when it is absent or not an object. The empty name is the whole tree, as
// it is everything under the prefix for Env.
func (d *Dict) GetSection(name string) map[string]any {
	var v any = *d.tree.Load()
	if name != "" {
		v, _ = LookupPath(v.(map[string]any), name)
	}
	m, ok := v.(map[string]any)
	if !ok || m == nil {
		return map[string]any{}
	}
	return deepCopy(m).(map[string]any)
}

// Set stores a copy of value at the dotted key, creating the objects on the
// way. A non-object standing on the way is replaced by an object.
func (d *Dict) Set(key string, value any) {
	value = deepCopy(value)
	d.mu.Lock()
	defer d.mu.Unlock()
	root := shallowCopy(*d.tree.Load())
	cur := root
	rest := key
	for {
		step, tail, more := strings.Cut(rest, ".")
		if !more {
			cur[step] = value
			break
		}
		old, _ := cur[step].(map[string]any)
		next := shallowCopy(old)
		cur[step] = next
		cur, rest = next, tail
	}
	d.tree.Store(&root)
}

// Update deep-merges a copy of values into the tree: where both sides hold
// an object the two merge key by key, anywhere else the new value replaces
// the old one (a nil included).
func (d *Dict) Update(values map[string]any) {
	src, _ := deepCopy(values).(map[string]any)
	d.mu.Lock()
	defer d.mu.Unlock()
	root := shallowCopy(*d.tree.Load())
	mergeCopying(root, src)
	d.tree.Store(&root)
}

// mergeCopying merges src into dst, which the caller owns; objects of dst
// that it descends into are copied first, as they may be shared with a
// published tree.
func mergeCopying(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				c := shallowCopy(dm)
				mergeCopying(c, sm)
				dst[k] = c
				continue
			}
		}
		dst[k] = v
	}
}

// shallowCopy returns a new map with m's entries (an empty one for nil).
func shallowCopy(m map[string]any) map[string]any {
	c := make(map[string]any, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	return c
}

// copyComposite copies maps and slices and returns anything else as is, so
// a scalar costs nothing.
func copyComposite(v any) any {
	switch v.(type) {
	case map[string]any, []any:
		return deepCopy(v)
	}
	return v
}

// deepCopy copies v, turning every map with string keys into
// map[string]any and every slice or array (but []byte, copied as bytes)
// into []any. Scalars are returned as they are.
func deepCopy(v any) any {
	switch t := v.(type) {
	case nil:
		return nil
	case map[string]any:
		if t == nil {
			return map[string]any{}
		}
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		if t == nil {
			return []any(nil)
		}
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = deepCopy(e)
		}
		return s
	case []byte:
		return append([]byte(nil), t...)
	case string, bool, int, int64, float64:
		return v
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return v
		}
		m := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			m[it.Key().String()] = deepCopy(it.Value().Interface())
		}
		return m
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return []any(nil)
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 { // json.RawMessage and kin
			c := reflect.New(rv.Type()).Elem()
			if rv.Kind() == reflect.Slice {
				c = reflect.MakeSlice(rv.Type(), rv.Len(), rv.Len())
			}
			reflect.Copy(c, rv)
			return c.Interface()
		}
		s := make([]any, rv.Len())
		for i := range s {
			s[i] = deepCopy(rv.Index(i).Interface())
		}
		return s
	}
	return v
}
