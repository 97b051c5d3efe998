package config

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/baldur-go/baldur"
)

// ParseValue parses one raw text value the way the env and Consul providers
// read theirs, in this order:
//
//  1. starting with '{' or '[' and valid JSON: that JSON, objects as
//     map[string]any, arrays as []any, integers as int64 and other numbers as
//     float64, exactly as baldur.DecodeRecord decodes (a number beyond
//     float64's range stays its text);
//  2. "true" or "false" in any case: the bool;
//  3. containing '.' and parsing as a float (Python float() syntax: spaces
//     trimmed, '_' between digits): float64;
//  4. parsing as an integer (spaces trimmed, '_' between digits, within
//     int64): int64;
//  5. anything else, "" included: the raw string, untouched.
//
// Invalid JSON after '{' or '[' falls through to the later rules, so "[x]"
// is the string "[x]".
func ParseValue(raw string) any {
	if raw != "" && (raw[0] == '{' || raw[0] == '[') {
		if v, ok := parseJSON(raw); ok {
			return v
		}
	}
	if asciiLowerIs(raw, "true") {
		return true
	}
	if asciiLowerIs(raw, "false") {
		return false
	}
	if strings.IndexByte(raw, '.') >= 0 {
		if f, ok := parseFloatText(raw); ok {
			return f
		}
	}
	if n, ok := parseIntText(raw); ok {
		return n
	}
	return raw
}

// parseJSON decodes one JSON value with nothing but spaces after it.
func parseJSON(raw string) (any, bool) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return baldur.NormalizeNumbers(v), true
}
