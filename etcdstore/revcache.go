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

// seen is what the Store's caches hold: something it saw of a key at a mod
// revision, with its size in bytes (0 where only the entry count bounds the
// cache).
type seen interface {
	revision() int64
	size() int
}

func (e revEntry) revision() int64 { return e.modRev }
func (e revEntry) size() int       { return 0 }

// seenCache remembers, per key, the last entry the Store saw: the revision
// of a record (revCache), so that a save after a read is one transaction,
// or a config type's history (historyCache), so that its only writer saves
// in one request. It is bounded by entry count and, when maxBytes > 0, by
// total bytes: when full, arbitrary entries are evicted (Go's map iteration
// order), which costs an evicted key one extra read, nothing more. Entries
// only move forward: an older revision never replaces a newer one.
type seenCache[E seen] struct {
	mu       sync.Mutex
	maxN     int
	maxBytes int
	bytes    int
	m        map[string]E
}

// revCache holds record revisions; historyCache (history.go) histories.
type revCache = seenCache[revEntry]

func newRevCache(capacity int) *revCache { return newSeenCache[revEntry](capacity, 0) }

func newSeenCache[E seen](maxN, maxBytes int) *seenCache[E] {
	return &seenCache[E]{maxN: maxN, maxBytes: maxBytes, m: make(map[string]E)}
}

func (c *seenCache[E]) get(key string) (E, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	return e, ok
}

func (c *seenCache[E]) put(key string, e E) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok {
		if old.revision() > e.revision() {
			return
		}
		c.remove(key, old)
	}
	if c.maxBytes > 0 && e.size() > c.maxBytes {
		return
	}
	for k, old := range c.m {
		if len(c.m) < c.maxN && (c.maxBytes <= 0 || c.bytes+e.size() <= c.maxBytes) {
			break
		}
		c.remove(k, old)
	}
	c.m[key] = e
	c.bytes += e.size()
}

func (c *seenCache[E]) remove(key string, old E) {
	c.bytes -= old.size()
	delete(c.m, key)
}

// forget drops key if its cached revision is at most modRev (0: always).
func (c *seenCache[E]) forget(key string, modRev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[key]; ok && (modRev == 0 || old.revision() <= modRev) {
		c.remove(key, old)
	}
}

func (c *seenCache[E]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
