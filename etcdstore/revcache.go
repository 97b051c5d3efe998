package etcdstore

import "sync"

// revEntry is what the Store last saw of a record: the key's mod revision
// and the record's version at that revision.
type revEntry struct {
	modRev    int64
	version   int64
	versionOK bool // false: the stored version is not an integer (matches nothing)
	noVersion bool // the record had no version field or a null one (counts as 0)
}

func (e revEntry) matches(expected int64) bool {
	if e.noVersion {
		return expected == 0
	}
	return e.versionOK && e.version == expected
}

// revCache remembers, per key, the last revEntry the Store saw, so that a
// save after a read is one transaction. It is bounded: when full, an
// arbitrary entry is evicted (Go's map iteration order), which costs the
// evicted record one extra read on its next conditional save, nothing more.
// Entries only move forward: an older revision never replaces a newer one.
type revCache struct {
	mu  sync.Mutex
	cap int
	m   map[string]revEntry
}

func newRevCache(capacity int) *revCache {
	return &revCache{cap: capacity, m: make(map[string]revEntry)}
}

func (c *revCache) get(key string) (revEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	return e, ok
}

func (c *revCache) put(key string, e revEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok {
		if old.modRev > e.modRev {
			return
		}
	} else if len(c.m) >= c.cap {
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[key] = e
}

// forget drops key if its cached revision is at most modRev (0: always).
func (c *revCache) forget(key string, modRev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok && (modRev == 0 || old.modRev <= modRev) {
		delete(c.m, key)
	}
}

func (c *revCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
