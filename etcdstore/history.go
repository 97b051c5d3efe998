package etcdstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/baldur-go/baldur"
)

type historyStore struct{ s *Store }

var _ baldur.ConfigHistoryStore = (*historyStore)(nil)

const kindHistory = "config history"

// NextVersion puts the counter key and reads its previous state in the same
// request: a key's etcd Version counts the puts since it was created, so the
// new counter is the previous Version plus one (1 when the key was absent).
// etcd applies puts one at a time, so N concurrent callers get 1..N.
func (h *historyStore) NextVersion(ctx context.Context, configType string) (int64, error) {
	s := h.s
	if err := s.check(); err != nil {
		return 0, err
	}
	if err := baldur.ValidateID("config type", configType); err != nil {
		return 0, err
	}
	resp, err := s.cli.Put(ctx, s.keys.HistoryCounter(configType), "", clientv3.WithPrevKV())
	if err != nil {
		return 0, wrapErr(err, "next version", kindHistory, configType, 0)
	}
	if resp.PrevKv == nil {
		return 1, nil
	}
	return resp.PrevKv.Version + 1, nil
}

// SaveVersion: see the package doc, "Config history".
func (h *historyStore) SaveVersion(ctx context.Context, configType string, versionData baldur.Record, maxEntries int) error {
	s := h.s
	if err := s.check(); err != nil {
		return err
	}
	if err := baldur.ValidateID("config type", configType); err != nil {
		return err
	}
	val, err := baldur.EncodeRecord(versionData)
	if err != nil {
		return err
	}
	entriesKey := s.keys.HistoryEntries(configType)
	currentKey := s.keys.HistoryCurrent(configType)
	seen, ok := s.history.get(entriesKey)
	if !ok {
		seen = historyEntry{} // guess a new type: mod revision 0 means absent
	}
	for {
		n := len(seen.entries) + 1
		if maxEntries > 0 && n > maxEntries {
			n = maxEntries
		}
		list := make([]json.RawMessage, 0, n)
		list = append(list, val)
		list = append(list, seen.entries[:n-1]...)
		doc := joinArray(list)
		size := len(doc) + len(val) + len(entriesKey) + len(currentKey)
		resp, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(entriesKey), "=", seen.modRev)).
			Then(clientv3.OpPut(entriesKey, string(doc)), clientv3.OpPut(currentKey, string(val))).
			Else(clientv3.OpGet(entriesKey)).
			Commit()
		if err != nil {
			return wrapErr(err, "save version of", kindHistory, configType, size)
		}
		if resp.Succeeded {
			s.history.put(entriesKey, historyEntry{modRev: resp.Header.Revision, entries: list, bytes: len(doc)})
			return nil
		}
		kvs := resp.Responses[0].GetResponseRange().Kvs
		seen, err = s.observeHistory(configType, entriesKey, kvs)
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return wrapErr(err, "save version of", kindHistory, configType, size)
		}
	}
}

// observeHistory parses a read of the entries key and caches it.
func (s *Store) observeHistory(configType, key string, kvs []*mvccpb.KeyValue) (historyEntry, error) {
	if len(kvs) == 0 {
		s.history.forget(key, 0)
		return historyEntry{}, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(kvs[0].Value, &list); err != nil {
		return historyEntry{}, fmt.Errorf("%w: etcdstore: history of %q is not a JSON array: %v", baldur.ErrInvalidArgument, configType, err)
	}
	e := historyEntry{modRev: kvs[0].ModRevision, entries: list, bytes: len(kvs[0].Value)}
	s.history.put(key, e)
	return e, nil
}

func joinArray(list []json.RawMessage) []byte {
	n := 2
	for _, m := range list {
		n += len(m) + 1
	}
	var b bytes.Buffer
	b.Grow(n)
	b.WriteByte('[')
	for i, m := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(m)
	}
	b.WriteByte(']')
	return b.Bytes()
}

func (h *historyStore) GetCurrent(ctx context.Context, configType string) (baldur.Record, error) {
	s := h.s
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := baldur.ValidateID("config type", configType); err != nil {
		return nil, err
	}
	r, _, err := s.getRecord(ctx, "current version of", configType, s.keys.HistoryCurrent(configType))
	return r, err
}

func (h *historyStore) readHistory(ctx context.Context, configType string) (historyEntry, error) {
	s := h.s
	if err := s.check(); err != nil {
		return historyEntry{}, err
	}
	if err := baldur.ValidateID("config type", configType); err != nil {
		return historyEntry{}, err
	}
	key := s.keys.HistoryEntries(configType)
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return historyEntry{}, wrapErr(err, "read", kindHistory, configType, 0)
	}
	return s.observeHistory(configType, key, resp.Kvs)
}

func (h *historyStore) GetHistory(ctx context.Context, configType string, limit int) ([]baldur.Record, error) {
	e, err := h.readHistory(ctx, configType)
	if err != nil {
		return nil, err
	}
	list := e.entries
	if limit > 0 && len(list) > limit {
		list = list[:limit]
	}
	out := make([]baldur.Record, 0, len(list))
	for i, m := range list {
		r, err := baldur.DecodeRecord(m)
		if err != nil {
			return nil, fmt.Errorf("etcdstore: history of %q, entry %d: %w", configType, i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (h *historyStore) GetVersionCount(ctx context.Context, configType string) (int, error) {
	e, err := h.readHistory(ctx, configType)
	return len(e.entries), err
}

// Clear deletes counter, current and entries of one type with one range
// delete: the three keys share the prefix history/{type}/ (the trailing '/'
// keeps "a" from clearing "ab").
func (h *historyStore) Clear(ctx context.Context, configType string) error {
	s := h.s
	if err := s.check(); err != nil {
		return err
	}
	if err := baldur.ValidateID("config type", configType); err != nil {
		return err
	}
	if _, err := s.cli.Delete(ctx, s.keys.History(configType), clientv3.WithPrefix()); err != nil {
		return wrapErr(err, "clear", kindHistory, configType, 0)
	}
	s.history.forget(s.keys.HistoryEntries(configType), 0)
	return nil
}

// historyEntry is the last seen state of one type's entries key.
type historyEntry struct {
	modRev  int64
	entries []json.RawMessage // newest first; never mutated once cached
	bytes   int
}

func (e historyEntry) revision() int64 { return e.modRev }
func (e historyEntry) size() int       { return e.bytes }

// historyCache remembers the last seen history per type (see seenCache),
// bounded by entry count and total bytes.
type historyCache = seenCache[historyEntry]

func newHistoryCache(maxN, maxBytes int) *historyCache {
	return newSeenCache[historyEntry](maxN, maxBytes)
}
