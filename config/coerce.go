package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// The coercions shared by every provider's typed getters. Each takes the
// looked-up value, whether it was present, and the caller's default. An
// absent value and an explicit null (nil) both give the default: a typed
// getter has no way to return "null". The rules are CONTRACT.md's; where it
// is silent, "anything else" gives the default too (a bool is not an
// integer here, a map is not a bool).

// ToBool: a bool as is; a string is true when, lower-cased, it is "true",
// "1", "yes" or "on", and false otherwise (including ""); a number is true
// when it is non-zero (NaN is non-zero); absent, null or any other type: def.
func ToBool(v any, present bool, def bool) bool {
	if !present || v == nil {
		return def
	}
	switch t := v.(type) {
	case bool:
		return t
	case string:
		return isTrueWord(t)
	case int:
		return t != 0
	case int64:
		return t != 0
	case float64:
		return t != 0
	case json.Number:
		f, ok := parseFloatText(string(t))
		if !ok {
			return def
		}
		return f != 0
	}
	if b, ok := basic(v); ok {
		switch t := b.(type) {
		case bool:
			return t
		case string:
			return isTrueWord(t)
		case int64:
			return t != 0
		case uint64:
			return t != 0
		case float64:
			return t != 0
		}
	}
	return def
}

// ToInt: an integer as is; a float truncated toward zero; a string after
// trimming spaces and dropping '_' between digits (" 42 " -> 42, "1_000" ->
// 1000, "-7" -> -7) when it is then a decimal integer ("3.5", "0x10", "1e3"
// -> def); a json.Number as the number it spells (truncated). Absent, null,
// NaN, ±Inf, out of the range of int, a bool, or any other type: def.
func ToInt(v any, present bool, def int) int {
	if !present || v == nil {
		return def
	}
	switch t := v.(type) {
	case int:
		return t
	case int64:
		return int64ToInt(t, def)
	case float64:
		return floatToInt(t, def)
	case string:
		n, ok := parseIntText(t)
		if !ok {
			return def
		}
		return int64ToInt(n, def)
	case json.Number:
		if n, ok := parseIntText(string(t)); ok {
			return int64ToInt(n, def)
		}
		f, ok := parseFloatText(string(t))
		if !ok {
			return def
		}
		return floatToInt(f, def)
	}
	if b, ok := basic(v); ok {
		switch t := b.(type) {
		case int64:
			return int64ToInt(t, def)
		case uint64:
			if t > math.MaxInt {
				return def
			}
			return int(t)
		case float64:
			return floatToInt(t, def)
		case string:
			n, ok := parseIntText(t)
			if !ok {
				return def
			}
			return int64ToInt(n, def)
		}
	}
	return def
}

// ToFloat: a float as is (NaN and ±Inf included); an integer converted; a
// string after trimming spaces and dropping '_' between digits when it is
// then a decimal float ("3.5", "1e3", "inf"; hex floats -> def); a value
// out of float64 range ("1e400") -> def; a json.Number as its number.
// Absent, null, a bool or any other type: def.
func ToFloat(v any, present bool, def float64) float64 {
	if !present || v == nil {
		return def
	}
	switch t := v.(type) {
	case float64:
		return t
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case string:
		f, ok := parseFloatText(t)
		if !ok {
			return def
		}
		return f
	case json.Number:
		f, ok := parseFloatText(string(t))
		if !ok {
			return def
		}
		return f
	}
	if b, ok := basic(v); ok {
		switch t := b.(type) {
		case int64:
			return float64(t)
		case uint64:
			return float64(t)
		case float64:
			return t
		case string:
			f, ok := parseFloatText(t)
			if !ok {
				return def
			}
			return f
		}
	}
	return def
}

// ToString: absent or null: def; otherwise the value's text. A string as
// is; a bool as "true"/"false"; integers in decimal; floats as Python prints
// them (3.0 -> "3.0", 3.5 -> "3.5", 1e16 -> "1e+16", NaN -> "nan"); a
// json.Number as spelled; []byte as its bytes; maps, slices, arrays and
// structs as compact JSON (HTML not escaped; def if JSON cannot encode
// them); a fmt.Stringer by its String method; anything else by fmt.Sprint.
func ToString(v any, present bool, def string) string {
	if !present || v == nil {
		return def
	}
	switch t := v.(type) {
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return pyFloat(t, 64)
	case float32:
		return pyFloat(float64(t), 32)
	case json.Number:
		return string(t)
	case []byte:
		return string(t)
	case fmt.Stringer:
		return t.String()
	case error:
		return t.Error()
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array, reflect.Struct, reflect.Pointer:
		if rv.Kind() == reflect.Pointer && rv.IsNil() {
			return def
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return def
		}
		return strings.TrimSuffix(buf.String(), "\n")
	}
	if b, ok := basic(v); ok {
		switch t := b.(type) {
		case bool:
			return strconv.FormatBool(t)
		case int64:
			return strconv.FormatInt(t, 10)
		case uint64:
			return strconv.FormatUint(t, 10)
		case float64:
			if rv.Kind() == reflect.Float32 {
				return pyFloat(t, 32)
			}
			return pyFloat(t, 64)
		case string:
			return t
		}
	}
	return fmt.Sprint(v)
}

// basic maps every other bool, integer, float or string type (int8,
// uint32, named types such as time.Duration) to bool, int64, uint64,
// float64 or string. It is only reached off the fast path.
func basic(v any) (any, bool) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint(), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	case reflect.String:
		return rv.String(), true
	}
	return nil, false
}

// isTrueWord reports whether s, lower-cased, is one of the true words. The
// comparison is ASCII-only on purpose: no non-ASCII rune lower-cases to a
// letter of these words, and strings.EqualFold would accept "yeſ" (U+017F
// folds to 's') where lower-casing does not.
func isTrueWord(s string) bool {
	return asciiLowerIs(s, "true") || s == "1" || asciiLowerIs(s, "yes") || asciiLowerIs(s, "on")
}

// asciiLowerIs reports whether s lower-cased (ASCII letters only) equals
// lower, which must be lower-case ASCII. It does not allocate.
func asciiLowerIs(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func int64ToInt(n int64, def int) int {
	if n < math.MinInt || n > math.MaxInt {
		return def
	}
	return int(n)
}

// floatToInt truncates f toward zero; NaN, ±Inf and values outside int's
// range give def.
func floatToInt(f float64, def int) int {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return def
	}
	t := math.Trunc(f)
	// float64(math.MinInt) is exactly -2^(bits-1); its negation is the
	// first value out of range.
	if t < float64(math.MinInt) || t >= -float64(math.MinInt) {
		return def
	}
	return int(t)
}

// parseIntText parses a decimal integer the way Python's int() reads a
// string: surrounding spaces trimmed, an optional sign, ASCII digits with
// single '_' allowed between two digits. It does not allocate.
func parseIntText(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return 0, false
	}
	const cutoff = uint64(1) << 63 // |MinInt64|
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			if i == 0 || i == len(s)-1 || !isDigit(s[i-1]) || !isDigit(s[i+1]) {
				return 0, false
			}
			continue
		}
		if !isDigit(c) {
			return 0, false
		}
		if n > (cutoff-uint64(c-'0'))/10 {
			return 0, false // beyond 2^63 in magnitude
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		return -int64(n-1) - 1, true // n may be exactly 2^63
	}
	if n >= cutoff {
		return 0, false
	}
	return int64(n), true
}

// parseFloatText parses a decimal float the way Python's float() reads a
// string: surrounding spaces trimmed, '_' allowed between two digits, "inf"
// and "nan" accepted. Hex floats, which strconv accepts and Python does not,
// and values out of range are rejected. It allocates only to drop '_'.
func parseFloatText(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	if len(body) >= 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		return 0, false
	}
	if strings.IndexByte(s, '_') >= 0 {
		for i := 0; i < len(s); i++ {
			if s[i] == '_' && (i == 0 || i == len(s)-1 || !isDigit(s[i-1]) || !isDigit(s[i+1])) {
				return 0, false
			}
		}
		s = strings.ReplaceAll(s, "_", "")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// pyFloat formats f as Python's repr does: the shortest digits that read
// back as f, fixed notation with at least one decimal for exponents from -4
// to 15, scientific with a two-digit exponent otherwise.
func pyFloat(f float64, bitSize int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, bitSize) // "-d.ddde±XX"
	exp, _ := strconv.Atoi(e[strings.LastIndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, bitSize)
	if strings.IndexByte(s, '.') < 0 {
		s += ".0"
	}
	return s
}
