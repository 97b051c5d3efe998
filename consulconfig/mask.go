package consulconfig

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Masked replaces the value of a secret-looking key in logs and dumps.
const Masked = "******"

// secretWords: a key whose last path segment contains one of these
// (case-insensitively) holds a secret.
var secretWords = [...]string{"pass", "secret", "token", "key"}

// IsSecretKey reports whether the value of key must be masked: its last
// path segment (after the last '.' or '/') contains pass, secret, token or
// key, in any case. It errs on the side of masking ("monkey" is masked).
func IsSecretKey(key string) bool {
	if i := strings.LastIndexAny(key, "./"); i >= 0 {
		key = key[i+1:]
	}
	key = strings.ToLower(key)
	for _, w := range secretWords {
		if strings.Contains(key, w) {
			return true
		}
	}
	return false
}

// maskedValue renders a value for a log line or a dump.
func maskedValue(key string, v any) string {
	if IsSecretKey(key) {
		return Masked
	}
	switch t := v.(type) {
	case string:
		return fmt.Sprintf("%q", t)
	case nil:
		return "null"
	case []any, map[string]any:
		b, err := json.Marshal(maskNested(t))
		if err != nil {
			return fmt.Sprintf("%v", t)
		}
		return string(b)
	}
	return fmt.Sprintf("%v", v)
}

// dump renders every leaf of the snapshot, one "key = value" per line,
// sorted, with secret values masked.
func (s *snapshot) dump() string {
	leaves := s.leaves()
	keys := make([]string, 0, len(leaves))
	for k := range leaves {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %s\n", k, maskedValue(k, leaves[k]))
	}
	return b.String()
}

// maskNested copies a composite value with the values of secret-looking keys
// inside it masked, at any depth.
func maskNested(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if IsSecretKey(k) {
				out[k] = Masked
			} else {
				out[k] = maskNested(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = maskNested(e)
		}
		return out
	}
	return v
}
