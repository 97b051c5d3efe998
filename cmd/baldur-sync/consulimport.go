package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/crosscluster"
)

// OriginConsul is the origin recorded on policies imported from Consul.
const OriginConsul = "consul"

// Timings of the Consul import.
const (
	consulWait       = 5 * time.Minute // blocking query wait
	consulBackoffMin = 500 * time.Millisecond
	consulBackoffMax = 30 * time.Second
	consulOpTimeout  = 10 * time.Second
)

// ConsulStatusJSON is the Consul import in /status.
type ConsulStatusJSON struct {
	Address   string            `json:"address"`
	Prefix    string            `json:"prefix"`
	Index     uint64            `json:"index"`
	Imported  uint64            `json:"imported"`
	Unchanged uint64            `json:"unchanged"`
	Invalid   map[string]string `json:"invalid"` // key -> reason, for keys currently invalid
	LastError string            `json:"last_error,omitempty"`
}

// consulImporter watches a Consul KV prefix with blocking List queries and
// writes each valid governance policy into the local store with origin
// "consul". It never deletes: removing a key in Consul leaves the policy in
// etcd (see docs/AGENT.md).
type consulImporter struct {
	cfg   ConsulConfig
	kv    *api.KV
	store baldur.CrossClusterStore
	log   *zap.Logger
	now   func() time.Time

	imported, invalid, failures prometheus.Counter
	invalidNow                  prometheus.Gauge

	mu      sync.Mutex
	applied map[string]uint64 // key -> ModifyIndex handled
	st      ConsulStatusJSON
}

func newConsulImporter(cfg ConsulConfig, store baldur.CrossClusterStore, reg prometheus.Registerer, log *zap.Logger) (*consulImporter, error) {
	ac := api.DefaultConfig()
	ac.Address = cfg.Address
	ac.Token = cfg.Token
	client, err := api.NewClient(ac)
	if err != nil {
		return nil, configErr("consul.address", "%q: %v", cfg.Address, err)
	}
	im := &consulImporter{
		cfg: cfg, kv: client.KV(), store: store, log: log, now: time.Now,
		applied: map[string]uint64{},
		st:      ConsulStatusJSON{Address: cfg.Address, Prefix: cfg.Prefix, Invalid: map[string]string{}},
		imported: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baldur_sync_consul_policies_imported_total",
			Help: "Governance policies written into the local etcd from Consul.",
		}),
		invalid: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baldur_sync_consul_policies_invalid_total",
			Help: "Consul keys under the policy prefix rejected as invalid policies (counted once per modification).",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "baldur_sync_consul_errors_total",
			Help: "Failed Consul queries and failed writes of imported policies.",
		}),
		invalidNow: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "baldur_sync_consul_policies_invalid",
			Help: "Consul keys under the policy prefix that are currently invalid.",
		}),
	}
	for _, c := range []prometheus.Collector{im.imported, im.invalid, im.failures, im.invalidNow} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register consul import metrics: %w", err)
		}
	}
	return im, nil
}

func (im *consulImporter) status() ConsulStatusJSON {
	im.mu.Lock()
	defer im.mu.Unlock()
	st := im.st
	st.Invalid = make(map[string]string, len(im.st.Invalid))
	for k, v := range im.st.Invalid {
		st.Invalid[k] = v
	}
	return st
}

func (im *consulImporter) setError(err error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	if err == nil {
		im.st.LastError = ""
		return
	}
	im.st.LastError = err.Error()
}

// run lists the prefix, applies it, and blocks for the next change until
// ctx is done. Failures are retried with backoff; nothing here returns an
// error or panics the process.
func (im *consulImporter) run(ctx context.Context) {
	var index uint64
	backoff := consulBackoffMin
	for ctx.Err() == nil {
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: consulWait}).WithContext(ctx)
		pairs, meta, err := im.kv.List(im.cfg.Prefix, q)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			im.failures.Inc()
			im.setError(err)
			im.log.Warn("consul list failed; retrying", zap.String("prefix", im.cfg.Prefix), zap.Duration("backoff", backoff), zap.Error(err))
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, consulBackoffMax)
			index = 0
			continue
		}
		// Consul's index can go backwards (a snapshot restore): start over.
		if meta.LastIndex < index {
			index = 0
		} else {
			index = meta.LastIndex
		}
		if err := im.apply(ctx, pairs); err != nil {
			if ctx.Err() != nil {
				return
			}
			im.failures.Inc()
			im.setError(err)
			im.log.Warn("writing imported policies failed; retrying", zap.Duration("backoff", backoff), zap.Error(err))
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, consulBackoffMax)
			index = 0 // list again at once instead of blocking
			continue
		}
		im.setError(nil)
		backoff = consulBackoffMin
		im.mu.Lock()
		im.st.Index = index
		im.mu.Unlock()
	}
}

// apply handles every key whose ModifyIndex it has not handled yet. It
// returns the first store error; invalid policies are reported, not errors.
func (im *consulImporter) apply(ctx context.Context, pairs api.KVPairs) error {
	present := make(map[string]bool, len(pairs))
	var firstErr error
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].Key < pairs[j].Key })
	for _, kv := range pairs {
		if strings.HasSuffix(kv.Key, "/") { // a "folder" key
			continue
		}
		present[kv.Key] = true
		im.mu.Lock()
		done := im.applied[kv.Key] == kv.ModifyIndex
		im.mu.Unlock()
		if done {
			continue
		}
		written, err := im.importOne(ctx, kv)
		var inv *invalidPolicyError
		switch {
		case errors.As(err, &inv):
			im.invalid.Inc()
			im.log.Warn("invalid governance policy in consul; skipped", zap.String("key", kv.Key), zap.Error(inv.err))
			im.mu.Lock()
			im.st.Invalid[kv.Key] = inv.err.Error()
			im.applied[kv.Key] = kv.ModifyIndex
			im.mu.Unlock()
		case err != nil:
			if firstErr == nil {
				firstErr = err
			}
		default:
			im.mu.Lock()
			delete(im.st.Invalid, kv.Key)
			im.applied[kv.Key] = kv.ModifyIndex
			if written {
				im.st.Imported++
			} else {
				im.st.Unchanged++
			}
			im.mu.Unlock()
			if written {
				im.imported.Inc()
			}
		}
	}
	im.mu.Lock()
	for k := range im.applied {
		if !present[k] {
			delete(im.applied, k)
			delete(im.st.Invalid, k)
		}
	}
	im.invalidNow.Set(float64(len(im.st.Invalid)))
	im.mu.Unlock()
	return firstErr
}

type invalidPolicyError struct{ err error }

func (e *invalidPolicyError) Error() string { return e.err.Error() }

// ParseConsulPolicy turns one Consul key under prefix into a policy record
// with origin "consul": the value must be a JSON object that passes
// crosscluster.ValidatePolicy; a missing policy_id is taken from the key
// (the part after the prefix), a present one must equal it.
func ParseConsulPolicy(prefix, key string, value []byte) (baldur.Record, crosscluster.Policy, error) {
	id := strings.TrimPrefix(key, prefix)
	if err := baldur.ValidateID("policy id (the key after the prefix)", id); err != nil {
		return nil, crosscluster.Policy{}, err
	}
	rec, err := baldur.DecodeRecord(bytes.TrimSpace(value))
	if err != nil {
		return nil, crosscluster.Policy{}, err
	}
	switch pid := rec["policy_id"].(type) {
	case nil:
		rec["policy_id"] = id
	case string:
		if pid != id {
			return nil, crosscluster.Policy{}, fmt.Errorf("%w: policy_id %q differs from the key's id %q", baldur.ErrInvalidArgument, pid, id)
		}
	}
	if o, ok := rec["origin"]; ok && o != OriginConsul {
		return nil, crosscluster.Policy{}, fmt.Errorf("%w: origin %v: policies from consul may only carry origin %q", baldur.ErrInvalidArgument, o, OriginConsul)
	}
	rec["origin"] = OriginConsul
	p, err := crosscluster.ValidatePolicy(rec)
	if err != nil {
		return nil, crosscluster.Policy{}, err
	}
	return rec, p, nil
}

// importOne writes one key's policy unless the local store already has the
// same content or a newer version. It reports whether it wrote.
func (im *consulImporter) importOne(ctx context.Context, kv *api.KVPair) (bool, error) {
	rec, p, err := ParseConsulPolicy(im.cfg.Prefix, kv.Key, kv.Value)
	if err != nil {
		return false, &invalidPolicyError{err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, consulOpTimeout)
	defer cancel()
	stored, err := im.store.GetPolicy(ctx, p.ID)
	switch {
	case errors.Is(err, baldur.ErrNotFound):
	case err != nil:
		return false, fmt.Errorf("read policy %q: %w", p.ID, err)
	default:
		if sp, err := crosscluster.ValidatePolicy(stored); err == nil {
			if sp.Version > p.Version {
				im.log.Info("consul policy is older than the stored one; not imported",
					zap.String("policy_id", p.ID), zap.Int64("consul_version", p.Version), zap.Int64("stored_version", sp.Version))
				return false, nil
			}
			if sp.Version == p.Version && sameContent(stored, rec) {
				return false, nil
			}
		}
	}
	if _, ok := rec["updated_at"]; !ok {
		// Same version edited in Consul: the newest update time wins the
		// tie in every cluster.
		rec["updated_at"] = float64(im.now().UnixNano()) / 1e9
	}
	if err := im.store.SavePolicy(ctx, p.ID, rec); err != nil {
		return false, fmt.Errorf("save policy %q: %w", p.ID, err)
	}
	im.log.Info("governance policy imported from consul", zap.String("policy_id", p.ID),
		zap.String("config_type", p.ConfigType), zap.Int64("version", p.Version), zap.String("key", kv.Key))
	return true, nil
}

// sameContent compares two policy records ignoring updated_at and origin,
// so that a restart of the agent does not rewrite (and re-replicate) every
// policy.
func sameContent(a, b baldur.Record) bool {
	strip := func(r baldur.Record) []byte {
		c, err := baldur.CloneRecord(r)
		if err != nil {
			return nil
		}
		delete(c, "updated_at")
		delete(c, "origin")
		out, err := baldur.EncodeRecord(c)
		if err != nil {
			return nil
		}
		return out
	}
	x, y := strip(a), strip(b)
	return x != nil && bytes.Equal(x, y)
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
