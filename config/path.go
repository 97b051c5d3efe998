package config

import "strings"

// LookupPath walks tree along a dotted key ("BALDUR.SLA.DEFAULT_HOURS"):
// each step must be a map[string]any holding the next name. It returns the
// value and true, or nil and false when a step is missing or a non-object
// stands on the way. An explicit nil at the end is (nil, true). A key is
// split on every '.', so "a..b" has an empty middle step and "" names the
// empty key at the top. LookupPath does not allocate.
func LookupPath(tree map[string]any, dotted string) (any, bool) {
	cur := tree
	rest := dotted
	for {
		step, tail, more := strings.Cut(rest, ".")
		v, ok := cur[step]
		if !ok {
			return nil, false
		}
		if !more {
			return v, true
		}
		m, isMap := v.(map[string]any)
		if !isMap {
			return nil, false
		}
		cur, rest = m, tail
	}
}

// LookupKeys walks tree along keys, one map step per key, with the rules of
// LookupPath; a key may itself contain '.', which is not split. No keys
// names the whole tree: (tree, true) unless tree is nil.
func LookupKeys(tree map[string]any, keys []string) (any, bool) {
	if len(keys) == 0 {
		if tree == nil {
			return nil, false
		}
		return tree, true
	}
	cur := tree
	for i, k := range keys {
		v, ok := cur[k]
		if !ok {
			return nil, false
		}
		if i == len(keys)-1 {
			return v, true
		}
		m, isMap := v.(map[string]any)
		if !isMap {
			return nil, false
		}
		cur = m
	}
	return nil, false // unreachable
}
