package etcdstore

import "strings"

// DefaultPrefix is the key prefix every store key lives under unless
// WithPrefix says otherwise.
const DefaultPrefix = "/baldur/"

// Key families under the prefix. They are exported because the sync agent
// (crosscluster) replicates some of them between clusters: it must agree with
// the stores on where a record lives.
const (
	FamilyRollout    = "canary/rollout/"       // {id} -> record JSON, leased
	FamilyActive     = "canary/active/"        // {id} -> "", no lease
	FamilyLock       = "canary/lock/"          // {configType} -> owner rollout id, own lease
	FamilyExperiment = "chaos/experiment/"     // {id} -> record JSON, leased
	FamilyHistory    = "history/"              // {type}/... counter, current, entries
	FamilyRequest    = "crosscluster/request/" // {id} -> record JSON, leased (7 days)
	FamilyPending    = "crosscluster/pending/" // {cluster}/{id} -> "", no lease
	FamilyPolicy     = "crosscluster/policy/"  // {id} -> record JSON, no lease
	FamilySession    = "sessions/"             // {user}/{session} -> JSON, leased
)

// Keys builds keys under one prefix.
type Keys struct{ prefix string }

// NewKeys returns a key builder for prefix; "" means DefaultPrefix, and a
// missing trailing slash is added.
func NewKeys(prefix string) Keys {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return Keys{prefix: prefix}
}

// Prefix returns the prefix, ending in '/'.
func (k Keys) Prefix() string { return k.prefix }

// Family returns the prefix of a key family, such as FamilyPolicy.
func (k Keys) Family(family string) string { return k.prefix + family }

// Rollout is the key of a rollout record.
func (k Keys) Rollout(id string) string { return k.prefix + FamilyRollout + id }

// Active is the key of an active-set member.
func (k Keys) Active(id string) string { return k.prefix + FamilyActive + id }

// Lock is the key of a config lock.
func (k Keys) Lock(configType string) string { return k.prefix + FamilyLock + configType }

// Experiment is the key of a chaos experiment.
func (k Keys) Experiment(id string) string { return k.prefix + FamilyExperiment + id }

// History is the prefix of one config type's history keys.
func (k Keys) History(configType string) string { return k.prefix + FamilyHistory + configType + "/" }

// Request is the key of a propagation request.
func (k Keys) Request(id string) string { return k.prefix + FamilyRequest + id }

// Pending is the key of one member of a cluster's pending set.
func (k Keys) Pending(cluster, id string) string {
	return k.prefix + FamilyPending + cluster + "/" + id
}

// PendingSet is the prefix of one cluster's pending set.
func (k Keys) PendingSet(cluster string) string { return k.prefix + FamilyPending + cluster + "/" }

// Policy is the key of a governance policy.
func (k Keys) Policy(id string) string { return k.prefix + FamilyPolicy + id }

// Session is the key of one user session.
func (k Keys) Session(user, session string) string {
	return k.prefix + FamilySession + user + "/" + session
}

// Sessions is the prefix of one user's sessions.
func (k Keys) Sessions(user string) string { return k.prefix + FamilySession + user + "/" }

// HistoryCounter is the key whose etcd version is the config type's version
// counter (its value is empty).
func (k Keys) HistoryCounter(configType string) string { return k.History(configType) + "counter" }

// HistoryCurrent is the key of the config type's current version.
func (k Keys) HistoryCurrent(configType string) string { return k.History(configType) + "current" }

// HistoryEntries is the key of the config type's history: one JSON array of
// version entries, newest first.
func (k Keys) HistoryEntries(configType string) string { return k.History(configType) + "entries" }
