package config

import (
	"os"
	"sort"
	"strings"
)

// Env is a configuration provider over environment variables. A dotted key
// becomes a variable name by replacing '.' with the separator, upper-casing,
// and putting prefix + separator in front when there is a prefix:
// "baldur.sla.default_hours" with prefix "APP" is APP__BALDUR__SLA__DEFAULT_HOURS.
// Values are parsed by ParseValue, so a set-but-empty variable is "" and not
// the default. Env holds no state of its own and is safe for concurrent use.
type Env struct {
	Getters

	prefix  string
	sep     string
	environ func() []string
	lookup  func(string) (string, bool)
}

var (
	_ ConfigProvider = (*Env)(nil)
	_ Lookuper       = (*Env)(nil)
)

// EnvOption configures an Env.
type EnvOption func(*Env)

// WithPrefix puts prefix and the separator in front of every variable name.
// The prefix is used as given (not upper-cased). It panics if prefix
// contains '=' or NUL, which no variable name can hold.
func WithPrefix(prefix string) EnvOption {
	checkName("config: WithPrefix", prefix)
	return func(e *Env) { e.prefix = prefix }
}

// WithSeparator sets the separator that replaces '.' (default "__"). It
// panics if sep is empty or contains '=' or NUL.
func WithSeparator(sep string) EnvOption {
	if sep == "" {
		panic("config: WithSeparator: separator is empty")
	}
	checkName("config: WithSeparator", sep)
	return func(e *Env) { e.sep = sep }
}

// WithEnviron reads the variables from environ ("NAME=value" entries, as
// os.Environ returns them) instead of the process environment; for tests.
// When a name appears twice the last entry wins. It panics if environ is nil.
func WithEnviron(environ func() []string) EnvOption {
	if environ == nil {
		panic("config: WithEnviron: environ is nil")
	}
	return func(e *Env) {
		e.environ = environ
		e.lookup = func(name string) (string, bool) {
			val, found := "", false
			for _, kv := range environ() {
				if k, v, ok := strings.Cut(kv, "="); ok && k == name {
					val, found = v, true
				}
			}
			return val, found
		}
	}
}

func checkName(what, s string) {
	if strings.ContainsAny(s, "=\x00") {
		panic(what + ": " + s + " contains '=' or NUL")
	}
}

// NewEnv returns a provider over the process environment (os.LookupEnv and
// os.Environ) unless WithEnviron says otherwise.
func NewEnv(opts ...EnvOption) *Env {
	e := &Env{sep: "__", environ: os.Environ, lookup: os.LookupEnv}
	for _, o := range opts {
		o(e)
	}
	e.Getters = NewGetters(e)
	return e
}

// VarName returns the variable name a dotted key reads.
func (e *Env) VarName(key string) string {
	name := strings.ToUpper(strings.ReplaceAll(key, ".", e.sep))
	if e.prefix != "" {
		return e.prefix + e.sep + name
	}
	return name
}

// Lookup implements Lookuper: the parsed value of the key's variable, false
// when the variable is not set.
func (e *Env) Lookup(key string) (any, bool) {
	raw, ok := e.lookup(e.VarName(key))
	if !ok {
		return nil, false
	}
	return ParseValue(raw), true
}

// Get returns the parsed value of the key's variable, def when unset.
func (e *Env) Get(key string, def any) any {
	if v, ok := e.Lookup(key); ok {
		return v
	}
	return def
}

// GetNested reads the variable of the keys joined by '.', def when unset.
func (e *Env) GetNested(keys []string, def any) any {
	return e.Get(strings.Join(keys, "."), def)
}

// GetSection gathers every variable under the section's name plus the
// separator into nested maps: with no prefix, BALDUR__SLA__DEFAULT_HOURS=24
// is {"sla": {"default_hours": 24}} in section "baldur". The remaining name
// is split on the separator and each part lower-cased. An empty name
// gathers everything under the prefix (the whole environment without one).
//
// Conflicts are settled the same way whatever the order of the environment:
// a name set twice keeps its last entry (as Lookup does), then variables are
// visited sorted by name; an object beats a scalar (A__B=1 and
// A__B__C=2 give {"b": {"c": 2}}), a JSON object value merges with the
// variables below it, two names that lower-case alike keep the later one in
// sort order, and a name with an empty part ("A____B", "A__B__") is skipped.
func (e *Env) GetSection(name string) map[string]any {
	var head string
	switch {
	case name != "":
		head = e.VarName(name) + e.sep
	case e.prefix != "":
		head = e.prefix + e.sep
	}
	latest := map[string]string{} // a name set twice: the last entry wins, as in Lookup
	for _, entry := range e.environ() {
		k, v, ok := strings.Cut(entry, "=")
		if !ok || k == "" || !strings.HasPrefix(k, head) || len(k) == len(head) {
			continue
		}
		latest[k] = v
	}
	names := make([]string, 0, len(latest))
	for k := range latest {
		names = append(names, k)
	}
	sort.Strings(names)
	out := map[string]any{}
	for _, name := range names {
		parts := strings.Split(strings.ToLower(name[len(head):]), e.sep)
		if containsEmpty(parts) {
			continue
		}
		cur := out
		for _, p := range parts[:len(parts)-1] {
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
		leaf := parts[len(parts)-1]
		val := ParseValue(latest[name])
		existing, isObj := cur[leaf].(map[string]any)
		newObj, newIsObj := val.(map[string]any)
		switch {
		case isObj && newIsObj:
			mergeInto(newObj, existing) // variables below win over the JSON
			cur[leaf] = newObj
		case isObj:
			// an object beats a scalar
		default:
			cur[leaf] = val
		}
	}
	return out
}

func containsEmpty(parts []string) bool {
	for _, p := range parts {
		if p == "" {
			return true
		}
	}
	return false
}

// mergeInto merges src into dst in place: objects on both sides merge
// key by key, anything else from src replaces dst's.
func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok && sm != nil {
			if dm, ok := dst[k].(map[string]any); ok && dm != nil {
				mergeInto(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}
