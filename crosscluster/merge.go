package crosscluster

import (
	"bytes"
	"cmp"
	"fmt"

	"github.com/baldur-go/baldur"
)

// mergeKey orders two values of one record so that every cluster keeps the
// same one: policies by version, then update time (updated_at, else
// created_at), then origin name; requests by status rank (pending_approval
// < approved < applied/rejected/expired), then updated_at, then origin. The
// last resort is the bytes, so the order is total.
type mergeKey struct {
	major  int64
	minor  float64
	origin string
	raw    []byte
}

func compareKeys(a, b mergeKey) int {
	if c := cmp.Compare(a.major, b.major); c != 0 {
		return c
	}
	if c := cmp.Compare(a.minor, b.minor); c != 0 {
		return c
	}
	if c := cmp.Compare(a.origin, b.origin); c != 0 {
		return c
	}
	return bytes.Compare(a.raw, b.raw)
}

// parsed is a decoded, checked record value.
type parsed struct {
	key    mergeKey
	target string // requests: target_cluster
	status string // requests: status
	rec    baldur.Record
}

// parseValue decodes a stored value of kind and computes its merge key.
// label is the origin the replicator knows for the value; a policy's own
// origin field takes precedence. A value that is not a JSON object, or a
// policy that ValidatePolicy refuses, or a request without a known status
// or a target_cluster, is an error (the record is skipped).
func parseValue(kind string, raw []byte, label string) (parsed, error) {
	rec, err := baldur.DecodeRecord(raw)
	if err != nil {
		return parsed{}, err
	}
	p := parsed{rec: rec, key: mergeKey{origin: label, raw: raw}}
	switch kind {
	case kindPolicy:
		pol, err := ValidatePolicy(rec)
		if err != nil {
			return parsed{}, err
		}
		p.key.major, p.key.minor = pol.Version, pol.updateTime()
		if pol.Origin != "" {
			p.key.origin = pol.Origin
		}
	case kindRequest:
		status, _ := rec["status"].(string)
		rank, ok := statusRank(status)
		if !ok {
			return parsed{}, fmt.Errorf("%w: request status %v is not one of the known statuses", baldur.ErrInvalidArgument, rec["status"])
		}
		target, _ := rec["target_cluster"].(string)
		if err := baldur.ValidateID("target cluster", target); err != nil {
			return parsed{}, err
		}
		p.status, p.target = status, target
		p.key.major = int64(rank)
		if v, ok := rec["updated_at"]; ok && v != nil {
			f, ok := asFloat(v)
			if !ok {
				return parsed{}, fmt.Errorf("%w: request updated_at %v is not a number", baldur.ErrInvalidArgument, v)
			}
			p.key.minor = f
		}
	}
	return p, nil
}
