package config

// ConfigProvider is what every provider (dict, env, consul) implements.
//
// Keys are dotted paths ("BALDUR.SLA.DEFAULT_HOURS"); GetNested takes the
// steps as a slice. Get and GetNested return def when the key is absent; what
// "absent" means, and whether an explicit null is a value, is each provider's
// to document (the dict provider returns an explicit null as nil). The typed
// getters coerce with ToBool, ToInt, ToFloat and ToString, so every provider
// reads "yes", "1_000" and 3.5 the same way.
type ConfigProvider interface {
	// Get returns the value at the dotted key, or def when it is absent.
	Get(key string, def any) any
	// GetNested returns the value at the path of keys, or def when absent.
	GetNested(keys []string, def any) any
	// GetSection returns a section as a fresh map; never nil, empty when
	// the section is absent or not an object.
	GetSection(name string) map[string]any
	// GetBool coerces the value at key with ToBool.
	GetBool(key string, def bool) bool
	// GetInt coerces the value at key with ToInt.
	GetInt(key string, def int) int
	// GetFloat coerces the value at key with ToFloat.
	GetFloat(key string, def float64) float64
	// GetString coerces the value at key with ToString.
	GetString(key string, def string) string
}

// Lookuper is the one method a provider writes; the typed getters are written
// once on top of it (see Getters).
type Lookuper interface {
	// Lookup returns the value at the dotted key; ok is false when the key
	// is absent. A present null is (nil, true). A composite value (map or
	// slice) must be the caller's own copy: the getters read it without
	// holding the provider's lock.
	Lookup(key string) (value any, ok bool)
}

// Getters implements GetBool, GetInt, GetFloat and GetString over a Lookuper.
// Providers embed it and set it with NewGetters in their constructor, so the
// coercion rules live in one place. The zero value answers every key with
// the default.
type Getters struct {
	l Lookuper
}

// NewGetters returns the typed getters over l.
func NewGetters(l Lookuper) Getters { return Getters{l: l} }

func (g Getters) lookup(key string) (any, bool) {
	if g.l == nil {
		return nil, false
	}
	return g.l.Lookup(key)
}

// GetBool returns the value at key coerced with ToBool.
func (g Getters) GetBool(key string, def bool) bool {
	v, ok := g.lookup(key)
	return ToBool(v, ok, def)
}

// GetInt returns the value at key coerced with ToInt.
func (g Getters) GetInt(key string, def int) int {
	v, ok := g.lookup(key)
	return ToInt(v, ok, def)
}

// GetFloat returns the value at key coerced with ToFloat.
func (g Getters) GetFloat(key string, def float64) float64 {
	v, ok := g.lookup(key)
	return ToFloat(v, ok, def)
}

// GetString returns the value at key coerced with ToString.
func (g Getters) GetString(key string, def string) string {
	v, ok := g.lookup(key)
	return ToString(v, ok, def)
}
