package consulconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// errNotObject: a document's top level must be an object.
var errNotObject = errors.New("document is not an object")

// parseDocument parses a whole JSON or YAML document into a tree of
// map[string]any, []any and scalars (string, bool, int64, float64, nil).
// Text that starts with '{' is JSON; anything else is YAML. An empty
// document is an empty tree.
func (b *builder) parseDocument(raw []byte) (map[string]any, error) {
	if len(raw) > b.maxValueSize {
		return nil, fmt.Errorf("document of %d bytes over the limit of %d", len(raw), b.maxValueSize)
	}
	return parseDocument(raw)
}

func parseDocument(raw []byte) (map[string]any, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return map[string]any{}, nil
	}
	var v any
	if trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("JSON document: %w", err)
		}
		if dec.More() {
			return nil, errors.New("JSON document: data after the top-level object")
		}
	} else if err := yaml.Unmarshal(trimmed, &v); err != nil {
		return nil, fmt.Errorf("YAML document: %w", err)
	}
	if v == nil {
		return map[string]any{}, nil
	}
	n, err := normalize(v, 0)
	if err != nil {
		return nil, err
	}
	m, ok := n.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w (top level is %T)", errNotObject, n)
	}
	return m, nil
}

// maxDepth bounds nesting, so a hostile document cannot exhaust the stack.
const maxDepth = 100

// normalize turns what the JSON and YAML decoders produce into the types
// the rest of the package uses: string keys, int64 for integers that fit
// (as config.ParseValue), float64 for other numbers, strings for timestamps and binary.
func normalize(v any, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("document nested deeper than %d", maxDepth)
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			n, err := normalize(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			n, err := normalize(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[keyString(k)] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			n, err := normalize(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return i, nil
		}
		f, err := t.Float64()
		if err != nil {
			return string(t), nil // out of float range: keep the text
		}
		return f, nil
	case int:
		return int64(t), nil
	case uint64:
		if t <= math.MaxInt64 {
			return int64(t), nil
		}
		return float64(t), nil
	case int64, float64, string, bool, nil:
		return t, nil
	case time.Time:
		return t.Format(time.RFC3339Nano), nil
	case []byte:
		return string(t), nil
	}
	return fmt.Sprint(v), nil
}

func keyString(k any) string {
	switch t := k.(type) {
	case string:
		return t
	case nil:
		return "null"
	}
	return fmt.Sprint(k)
}
