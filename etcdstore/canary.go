package etcdstore

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/baldur-go/baldur"
)

type canaryStore struct{ s *Store }

var _ baldur.CanaryRolloutStore = (*canaryStore)(nil)

const kindRollout = "rollout"

func entryOf(r baldur.Record, modRev int64) revEntry {
	e := revEntry{modRev: modRev}
	v, ok := r["version"]
	if !ok || v == nil {
		e.noVersion = true
		return e
	}
	e.version, e.versionOK = baldur.AsInt64(v)
	return e
}

func (c *canaryStore) GetRollout(ctx context.Context, id string) (baldur.Record, error) {
	s := c.s
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := baldur.ValidateID("rollout id", id); err != nil {
		return nil, err
	}
	key := s.keys.Rollout(id)
	r, modRev, err := s.getRecord(ctx, kindRollout, id, key)
	if err != nil {
		return nil, err
	}
	s.revs.put(key, entryOf(r, modRev))
	return r, nil
}

// SaveRollout: see the package doc, "Optimistic saves".
func (c *canaryStore) SaveRollout(ctx context.Context, id string, data baldur.Record, ttl time.Duration, expectedVersion *int64) (bool, error) {
	s := c.s
	if err := s.check(); err != nil {
		return false, err
	}
	if err := baldur.ValidateID("rollout id", id); err != nil {
		return false, err
	}
	if err := baldur.ValidateTTL(ttl); err != nil {
		return false, err
	}
	val, err := baldur.EncodeRecord(data)
	if err != nil {
		return false, err
	}
	key := s.keys.Rollout(id)
	mine := entryOf(data, 0) // what the cache learns when our put wins
	if expectedVersion == nil {
		rev, err := s.putLeased(ctx, key, val, ttl)
		if err != nil {
			return false, wrapErr(err, "save", kindRollout, id, len(val))
		}
		mine.modRev = rev
		s.revs.put(key, mine)
		return true, nil
	}
	want := *expectedVersion

	seen, ok := s.revs.get(key)
	if !ok || !seen.matches(want) {
		// Nothing cached, or the cache says the version differs (it may be
		// stale): read the record and decide from what etcd holds now.
		resp, err := s.cli.Get(ctx, key)
		if err != nil {
			return false, wrapErr(err, "save", kindRollout, id, len(val))
		}
		if seen, ok, err = s.observe(key, id, resp.Kvs, resp.Header.Revision); err != nil || !ok || !seen.matches(want) {
			return false, err
		}
	}
	for {
		var resp *clientv3.TxnResponse
		err := s.leases.WithLease(ctx, ttl, func(lease clientv3.LeaseID) error {
			var err error
			resp, err = s.cli.Txn(ctx).
				If(clientv3.Compare(clientv3.ModRevision(key), "=", seen.modRev)).
				Then(clientv3.OpPut(key, string(val), clientv3.WithLease(lease))).
				Else(clientv3.OpGet(key)).
				Commit()
			return err
		})
		if err != nil {
			return false, wrapErr(err, "save", kindRollout, id, len(val))
		}
		if resp.Succeeded {
			mine.modRev = resp.Header.Revision
			s.revs.put(key, mine)
			return true, nil
		}
		// The record changed since we saw it; the Else branch read it in the
		// same request. Same version (a TTL reset, a rewrite of the same
		// version): compare again on the new revision; otherwise a conflict.
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if seen, ok, err = s.observe(key, id, kvs, resp.Header.Revision); err != nil || !ok || !seen.matches(want) {
			return false, err
		}
		if err := ctx.Err(); err != nil {
			return false, wrapErr(err, "save", kindRollout, id, len(val))
		}
	}
}

// observe records what a read of key returned in the revision cache; ok is
// false when the record is absent.
func (s *Store) observe(key, id string, kvs []*mvccpb.KeyValue, headerRev int64) (revEntry, bool, error) {
	if len(kvs) == 0 {
		s.revs.forget(key, headerRev)
		return revEntry{}, false, nil
	}
	r, err := baldur.DecodeRecord(kvs[0].Value)
	if err != nil {
		return revEntry{}, false, fmt.Errorf("etcdstore: rollout %q: %w", id, err)
	}
	e := entryOf(r, kvs[0].ModRevision)
	s.revs.put(key, e)
	return e, true, nil
}

func (c *canaryStore) GetActiveIDs(ctx context.Context) ([]string, error) {
	if err := c.s.check(); err != nil {
		return nil, err
	}
	return c.s.listIDs(ctx, "active set", c.s.keys.Family(FamilyActive))
}

func (c *canaryStore) AddActive(ctx context.Context, id string) error {
	s := c.s
	if err := s.check(); err != nil {
		return err
	}
	if err := baldur.ValidateID("rollout id", id); err != nil {
		return err
	}
	if _, err := s.cli.Put(ctx, s.keys.Active(id), ""); err != nil {
		return wrapErr(err, "add active", kindRollout, id, 0)
	}
	return nil
}

func (c *canaryStore) RemoveActive(ctx context.Context, id string) error {
	s := c.s
	if err := s.check(); err != nil {
		return err
	}
	if err := baldur.ValidateID("rollout id", id); err != nil {
		return err
	}
	if _, err := s.cli.Delete(ctx, s.keys.Active(id)); err != nil {
		return wrapErr(err, "remove active", kindRollout, id, 0)
	}
	return nil
}

func (c *canaryStore) FindCompleted(ctx context.Context, pattern string) ([]baldur.Record, error) {
	if err := c.s.check(); err != nil {
		return nil, err
	}
	if err := baldur.ValidatePattern(pattern); err != nil {
		return nil, err
	}
	return c.s.listRecords(ctx, kindRollout, FamilyRollout, literalPrefix(pattern), func(id string, _ baldur.Record) bool {
		return baldur.MatchID(pattern, id)
	})
}

// literalPrefix is the part of a glob before its first special character:
// every matching id starts with it, so the range read can start there.
func literalPrefix(pattern string) string {
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '*', '?', '[', '\\':
			return pattern[:i]
		}
	}
	return pattern
}
