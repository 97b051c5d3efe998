// Package config holds Baldur's configuration providers: the ConfigProvider
// contract, the typed getters and coercions every provider shares, and two
// providers, Dict (an in-memory tree) and Env (environment variables). The
// Consul provider (package consulconfig) is built on the same pieces.
//
// The usual call path:
//
//	p := config.NewEnv(config.WithPrefix("APP"))
//	hours := p.GetInt("baldur.sla.default_hours", 24) // reads APP__BALDUR__SLA__DEFAULT_HOURS
//
// # One lookup, shared getters
//
// A provider writes one method, Lookup(key) (value, ok), and embeds Getters,
// which implements GetBool, GetInt, GetFloat and GetString on top of it with
// ToBool, ToInt, ToFloat and ToString. Embedding (rather than a wrapper type
// or free functions) keeps each provider a single value that satisfies
// ConfigProvider, while the coercion rules exist exactly once: the dict, env
// and Consul providers cannot drift apart on what "yes", "1_000" or 3.9
// means. The coercions are exported so a provider, or a caller holding a raw
// value, uses the same rules.
//
// # Coercion rules (CONTRACT.md, and the choices where it is silent)
//
//   - Bool: a bool as is; a string is true when lower-cased it is "true",
//     "1", "yes" or "on", any other string false; numbers true when
//     non-zero. The lower-casing is ASCII-only, which is exact for these
//     words (strings.EqualFold would accept "yeſ").
//   - Int: integers as they are, floats truncated toward zero, strings as
//     Python's int() reads them (spaces trimmed, '_' between digits, a
//     sign; "3.5", "0x10" and "1e3" are not integers). Out of range: the
//     default.
//   - Float: likewise with Python's float() syntax; hex floats (which Go
//     accepts and Python does not) and values beyond float64 are rejected.
//   - String: the value's text; floats printed as Python prints them (3.0 is
//     "3.0", 1e16 is "1e+16"), maps and slices as compact JSON.
//   - Absent and null: every typed getter returns its default for both, since
//     a typed result cannot carry "null". Values of other types (a bool asked
//     for as an int, a map asked for as a bool) give the default too: we do
//     not borrow Python's int(True) == 1 or truthiness of collections.
//
// # Null, missing and non-objects
//
// Keys are dotted paths walked through nested map[string]any by LookupPath
// (LookupKeys takes the steps as a slice). A missing step, or a non-object on
// the way (a string, a list: lists are not indexed), is absent. An explicit
// null is present: Dict.Get returns it as nil, not the default, so a caller
// can tell "configured as null" from "not configured". GetSection of a
// non-object is an empty map, never nil.
//
// LookupPath walks the key with strings.Cut and map lookups on substrings,
// so reading a scalar allocates nothing; with Dict's lock-free
// copy-on-write tree a GetInt on a three-level key is a few tens of
// nanoseconds (BenchmarkDictGetInt).
//
// # Dict
//
// NewDict deep-copies its input, turning typed maps with string keys and
// typed slices into map[string]any and []any so every object is reachable
// by key. Reads load the published tree atomically; Set and Update copy the
// maps on the path they change and publish a new root, so readers never
// lock and never see a half-applied Update. Maps and slices handed out are
// copies. Set creates missing objects and replaces a scalar on the way by
// an object; Update deep-merges objects and replaces everything else.
//
// # Env
//
// A key becomes a variable name by replacing '.' with the separator ("__"
// by default), upper-casing, and putting prefix + separator in front. A value
// is parsed by ParseValue (JSON for '{'/'[', then bools, floats with a '.',
// integers, else the raw string: "" stays ""). GetSection gathers the
// variables under a section into nested maps with lower-cased keys; conflicts
// are settled in sorted name order so the result does not depend on the
// order of the environment (an object beats a scalar, a JSON object merges
// with the variables below it). Options check their input and panic on
// programmer errors (an empty separator, a name with '=').
//
// Nothing here is a library's because the rules are the contract's own:
// viper and koanf coerce differently ("1_000", "yes", null handling) and
// would put a second set of rules beside the one the Consul provider shares.
package config
