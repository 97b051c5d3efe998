package baldur

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Record is one stored document: a JSON object.
type Record = map[string]any

// EncodeRecord returns the compact JSON encoding of r. A nil record, or one
// holding a value JSON cannot encode (a channel, a function, NaN or ±Inf), is
// ErrInvalidArgument.
func EncodeRecord(r Record) ([]byte, error) {
	if r == nil {
		return nil, fmt.Errorf("%w: record is nil, want a JSON object", ErrInvalidArgument)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("%w: record is not encodable as JSON: %v", ErrInvalidArgument, err)
	}
	return b, nil
}

// DecodeRecord parses a stored JSON object into a fresh Record. Integers come
// back as int64 (float64 when they do not fit), other numbers as float64, so
// that every backend hands out the same Go types.
func DecodeRecord(b []byte) (Record, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: stored value is not a JSON object: %v", ErrInvalidArgument, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: stored value has data after the JSON object", ErrInvalidArgument)
	}
	if r == nil {
		return nil, fmt.Errorf("%w: stored value is null, want a JSON object", ErrInvalidArgument)
	}
	NormalizeNumbers(r)
	return r, nil
}

// NormalizeNumbers turns every json.Number in a value decoded with UseNumber
// into int64 when it is an integer that fits, float64 otherwise (a number
// beyond float64's range stays as its text), recursing into maps and slices in
// place; a negative zero loses its sign. Every decoder of stored or configured JSON in the project goes
// through it, so all hand out the same Go types.
func NormalizeNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return i
		}
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return string(t)
		}
		if f == 0 {
			// -0.0 would encode as "-0", which decodes as the integer 0:
			// drop the sign so that decoding and encoding are stable.
			return float64(0)
		}
		return f
	case map[string]any:
		for k, e := range t {
			t[k] = NormalizeNumbers(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = NormalizeNumbers(e)
		}
		return t
	default:
		return v
	}
}

// CloneRecord returns a deep copy of r through its JSON encoding, with the
// number normalisation of DecodeRecord.
func CloneRecord(r Record) (Record, error) {
	b, err := EncodeRecord(r)
	if err != nil {
		return nil, err
	}
	return DecodeRecord(b)
}

// VersionOf returns the record's "version" field as an integer. A record
// without one, or with a non-integral or non-numeric one, is version 0 for
// this function; use VersionMatches to compare against an expected version.
func VersionOf(r Record) int64 {
	v, ok := r["version"]
	if !ok {
		return 0
	}
	n, ok := AsInt64(v)
	if !ok {
		return 0
	}
	return n
}

// VersionMatches reports whether the record's stored version equals expected.
// A record without a "version" field (or with a null one) counts as version 0.
// Numbers compare by value: 3, int64(3), float64(3) and json.Number("3") are
// the same version; a non-numeric or fractional version matches nothing.
func VersionMatches(r Record, expected int64) bool {
	v, ok := r["version"]
	if !ok || v == nil {
		return expected == 0
	}
	n, ok := AsInt64(v)
	return ok && n == expected
}

// AsInt64 converts a JSON-ish number to int64 when it is integral and in
// range: Go integer types, float32/float64 with no fraction, json.Number.
func AsInt64(v any) (int64, bool) {
	switch t := v.(type) {
	case int:
		return int64(t), true
	case int8:
		return int64(t), true
	case int16:
		return int64(t), true
	case int32:
		return int64(t), true
	case int64:
		return t, true
	case uint:
		return uintToInt64(uint64(t))
	case uint8:
		return int64(t), true
	case uint16:
		return int64(t), true
	case uint32:
		return int64(t), true
	case uint64:
		return uintToInt64(t)
	case float32:
		return floatToInt64(float64(t))
	case float64:
		return floatToInt64(t)
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return i, true
		}
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return 0, false
		}
		return floatToInt64(f)
	default:
		return 0, false
	}
}

func uintToInt64(u uint64) (int64, bool) {
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

func floatToInt64(f float64) (int64, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) {
		return 0, false
	}
	// 2^63 is exactly representable; anything at or above it overflows.
	if f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
		return 0, false
	}
	return int64(f), true
}
