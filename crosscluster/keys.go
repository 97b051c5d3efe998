package crosscluster

import (
	"encoding/json"
	"strings"
)

// The stores' key layout (etcdstore/keys.go), repeated here so that the
// replicator does not pull in the whole etcd backend; keys_test.go pins
// the two together.
const (
	defaultPrefix = "/baldur/"
	familyRequest = "crosscluster/request/"
	familyPending = "crosscluster/pending/"
	familyPolicy  = "crosscluster/policy/"
)

// Key families the replicator adds next to the stores' families.
const (
	// FamilyOrigin holds one marker per received copy:
	// {prefix}crosscluster/origin/{policy|request}/{id}. It sits under
	// crosscluster/ so that a single watch sees a record and its marker in
	// the same revision.
	FamilyOrigin = "crosscluster/origin/"
	// FamilyCheckpoint holds the last applied source revision per peer:
	// {prefix}sync/checkpoint/{peer}. It is outside the watched range, so
	// checkpoint writes never replicate.
	FamilyCheckpoint = "sync/checkpoint/"
)

// The replicated kinds, as they appear in marker keys.
const (
	kindPolicy  = "policy"
	kindRequest = "request"
)

// keyspace names every key the replicator reads or writes.
type keyspace struct {
	prefix   string
	watch    string // {prefix}crosscluster/
	policy   string
	request  string
	origin   string
	pending  string
	checkpnt string
	probe    string
}

func newKeyspace(prefix string) keyspace {
	if prefix == "" {
		prefix = defaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return keyspace{
		prefix:   prefix,
		watch:    prefix + "crosscluster/",
		policy:   prefix + familyPolicy,
		request:  prefix + familyRequest,
		origin:   prefix + FamilyOrigin,
		pending:  prefix + familyPending,
		checkpnt: prefix + FamilyCheckpoint,
		probe:    prefix + "sync/probe",
	}
}

// record splits a record key into kind and id; ok is false for any other
// key (pending entries, markers, unknown families, ids with a '/').
func (ks keyspace) record(key string) (kind, id string, ok bool) {
	switch {
	case strings.HasPrefix(key, ks.policy):
		kind, id = kindPolicy, key[len(ks.policy):]
	case strings.HasPrefix(key, ks.request):
		kind, id = kindRequest, key[len(ks.request):]
	default:
		return "", "", false
	}
	if id == "" || strings.Contains(id, "/") {
		return "", "", false
	}
	return kind, id, true
}

func (ks keyspace) recordKey(kind, id string) string {
	if kind == kindPolicy {
		return ks.policy + id
	}
	return ks.request + id
}

func (ks keyspace) marker(kind, id string) string { return ks.origin + kind + "/" + id }

// markerRecord splits a marker key into kind and id.
func (ks keyspace) markerRecord(key string) (kind, id string, ok bool) {
	rest, found := strings.CutPrefix(key, ks.origin)
	if !found {
		return "", "", false
	}
	kind, id, found = strings.Cut(rest, "/")
	if !found || (kind != kindPolicy && kind != kindRequest) || id == "" {
		return "", "", false
	}
	return kind, id, true
}

func (ks keyspace) checkpoint(peer string) string { return ks.checkpnt + peer }

// marker is the value of an origin marker. It is written in the same
// transaction as the record copy it describes, so the two share a
// ModRevision: that equality is what makes a record a received copy.
type marker struct {
	// Origin is the cluster where the value was written.
	Origin string `json:"origin"`
	// Peer is the cluster it was received from ("" for a re-assertion).
	Peer string `json:"peer,omitempty"`
	// SrcRev is the revision of the write at Peer.
	SrcRev int64 `json:"src_rev,omitempty"`
	// Forward marks a re-assertion: the local cluster rewrote its value
	// because a peer sent an older one; it must travel again.
	Forward bool `json:"forward,omitempty"`
}

func (m marker) encode() string {
	b, _ := json.Marshal(m) // cannot fail: strings, an int and a bool
	return string(b)
}

func decodeMarker(b []byte) (marker, bool) {
	var m marker
	if err := json.Unmarshal(b, &m); err != nil || m.Origin == "" {
		return marker{}, false
	}
	return m, true
}

func (ks keyspace) pendingKey(cluster, id string) string { return ks.pending + cluster + "/" + id }
