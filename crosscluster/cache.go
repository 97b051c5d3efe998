package crosscluster

import (
	"context"
	"fmt"
	"sync"
)

// localCache remembers the local state of replicated records (value,
// ModRevision, lease, origin), so that applying a peer's change usually
// takes one round trip (the guarded transaction) instead of two (read, then
// transaction). It is only a guess: every transaction still compares the
// record's ModRevision, and when the guess was stale (a user wrote or
// deleted the record, a lease ran out) the guard fails, the entry is
// dropped, and the change is decided again on a fresh read. The cache is
// filled by one listing of the local range and kept up to date from the
// replicator's own commits; it holds the replicated records (policies and
// requests) and nothing else.
type localCache struct {
	mu       sync.Mutex
	complete bool // filled from a listing: a missing key is absent
	entries  map[string]cacheEntry
}

type cacheEntry struct {
	kv    destKV
	known bool // false: must be read
}

// lookup returns the cached state of key, and false when it must be read.
func (c *localCache) lookup(key, localName string) (destKV, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	switch {
	case ok && e.known:
		return e.kv, true
	case !ok && c.complete:
		return destKV{label: localName}, true
	default:
		return destKV{}, false
	}
}

func (c *localCache) store(key string, kv destKV) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]cacheEntry{}
	}
	c.entries[key] = cacheEntry{kv: kv, known: true}
}

func (c *localCache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]cacheEntry{}
	}
	c.entries[key] = cacheEntry{}
}

// fill replaces the cache with a listing of the local range.
func (c *localCache) fill(cur map[string]destKV) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = make(map[string]cacheEntry, len(cur))
	for k, kv := range cur {
		c.entries[k] = cacheEntry{kv: kv, known: true}
	}
	c.complete = true
}

func (c *localCache) isComplete() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.complete
}

// listLocal reads the local state of every replicated record.
func (r *Replicator) listLocal(ctx context.Context) (map[string]destKV, error) {
	kvs, _, err := listAll(ctx, r.local, r.keys.watch, 0)
	if err != nil {
		return nil, fmt.Errorf("crosscluster: list local copies: %w", err)
	}
	snap := r.newSnapshot(kvs)
	cur := make(map[string]destKV, len(snap.records))
	for key, kv := range snap.records {
		kind, id, _ := r.keys.record(key)
		d := destKV{exists: true, value: kv.Value, modRev: kv.ModRevision, lease: kv.Lease, label: r.localName}
		if m, ok := snap.markerOf(r.keys, kind, id, kv); ok {
			d.label, d.peer, d.copy = m.Origin, m.Peer, !m.Forward
		}
		cur[key] = d
	}
	return cur, nil
}

// cachedDest returns the local state of every item: from the cache where it
// knows, read from etcd (and cached) otherwise. The first call fills the
// cache from a listing.
func (r *Replicator) cachedDest(ctx context.Context, items []item) (map[string]destKV, error) {
	if !r.cache.isComplete() {
		cur, err := r.listLocal(ctx)
		if err != nil {
			return nil, err
		}
		r.cache.fill(cur)
	}
	out := make(map[string]destKV, len(items))
	var missing []item
	for _, it := range items {
		if kv, ok := r.cache.lookup(it.key, r.localName); ok {
			out[it.key] = kv
		} else {
			missing = append(missing, it)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	read, err := r.readDest(ctx, missing)
	if err != nil {
		return nil, err
	}
	for k, v := range read {
		out[k] = v
	}
	return out, nil
}
