package memstore

import (
	"container/heap"
	"context"
	"slices"
	"time"

	"github.com/baldur-go/baldur"
)

type canaryStore Store

var _ baldur.CanaryRolloutStore = (*canaryStore)(nil)

func (c *canaryStore) GetRollout(ctx context.Context, id string) (baldur.Record, error) {
	if err := baldur.ValidateID("rollout id", id); err != nil {
		return nil, err
	}
	s := (*Store)(c)
	if _, err := s.begin(ctx, "GetRollout"); err != nil {
		return nil, err
	}
	var data []byte
	e, ok := s.rollouts[id]
	if ok {
		data = e.data // the slice, not the entry: a write replaces e.data
	}
	s.mu.Unlock()
	if !ok {
		return nil, notFound("rollout", id)
	}
	return decode("rollout", id, data)
}

func (c *canaryStore) SaveRollout(ctx context.Context, id string, data baldur.Record, ttl time.Duration, expectedVersion *int64) (bool, error) {
	if err := baldur.ValidateID("rollout id", id); err != nil {
		return false, err
	}
	if err := baldur.ValidateTTL(ttl); err != nil {
		return false, err
	}
	b, err := encode("rollout", id, data)
	if err != nil {
		return false, err
	}
	s := (*Store)(c)
	now, err := s.begin(ctx, "SaveRollout")
	if err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	if expectedVersion != nil {
		e, ok := s.rollouts[id]
		if !ok {
			return false, nil
		}
		stored, err := decode("rollout", id, e.data)
		if err != nil {
			return false, err
		}
		if !baldur.VersionMatches(stored, *expectedVersion) {
			return false, nil
		}
	}
	s.putTTLLocked(s.rollouts, famRollout, id, b, now.Add(ttl))
	return true, nil
}

func (c *canaryStore) GetActiveIDs(ctx context.Context) ([]string, error) {
	s := (*Store)(c)
	if _, err := s.begin(ctx, "GetActiveIDs"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.active))
	for id := range s.active {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

func (c *canaryStore) AddActive(ctx context.Context, id string) error {
	if err := baldur.ValidateID("rollout id", id); err != nil {
		return err
	}
	s := (*Store)(c)
	if _, err := s.begin(ctx, "AddActive"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.active[id] = struct{}{}
	return nil
}

func (c *canaryStore) RemoveActive(ctx context.Context, id string) error {
	if err := baldur.ValidateID("rollout id", id); err != nil {
		return err
	}
	s := (*Store)(c)
	if _, err := s.begin(ctx, "RemoveActive"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	delete(s.active, id)
	return nil
}

func (c *canaryStore) FindCompleted(ctx context.Context, pattern string) ([]baldur.Record, error) {
	if err := baldur.ValidatePattern(pattern); err != nil {
		return nil, err
	}
	s := (*Store)(c)
	if _, err := s.begin(ctx, "FindCompleted"); err != nil {
		return nil, err
	}
	var found []stored
	for id, e := range s.rollouts {
		if baldur.MatchID(pattern, id) {
			found = append(found, stored{id, e.data})
		}
	}
	s.mu.Unlock()
	return decodeSorted("rollout", found, nil)
}

func (c *canaryStore) AcquireConfigLock(ctx context.Context, configType, rolloutID string, timeout time.Duration) (bool, error) {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return false, err
	}
	if err := baldur.ValidateID("rollout id", rolloutID); err != nil {
		return false, err
	}
	timeout, err := baldur.LockTimeout(timeout)
	if err != nil {
		return false, err
	}
	s := (*Store)(c)
	now, err := s.begin(ctx, "AcquireConfigLock")
	if err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	if _, held := s.locks[configType]; held {
		return false, nil
	}
	l := &lockEntry{owner: rolloutID, exp: &deadline{at: now.Add(timeout), fam: famLock, key: configType}}
	heap.Push(&s.deadlines, l.exp)
	s.locks[configType] = l
	return true, nil
}

func (c *canaryStore) ReleaseConfigLock(ctx context.Context, configType, rolloutID string) (bool, error) {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return false, err
	}
	if err := baldur.ValidateID("rollout id", rolloutID); err != nil {
		return false, err
	}
	s := (*Store)(c)
	if _, err := s.begin(ctx, "ReleaseConfigLock"); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	l, held := s.locks[configType]
	if !held || l.owner != rolloutID {
		return false, nil
	}
	s.removeLockLocked(configType, l)
	return true, nil
}

func (c *canaryStore) GetConfigLockOwner(ctx context.Context, configType string) (string, error) {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return "", err
	}
	s := (*Store)(c)
	if _, err := s.begin(ctx, "GetConfigLockOwner"); err != nil {
		return "", err
	}
	defer s.mu.Unlock()
	if l, held := s.locks[configType]; held {
		return l.owner, nil
	}
	return "", nil
}

func (c *canaryStore) IsConfigLocked(ctx context.Context, configType string) (bool, error) {
	owner, err := c.GetConfigLockOwner(ctx, configType)
	return owner != "", err
}

func (c *canaryStore) ForceReleaseConfigLock(ctx context.Context, configType string) (bool, error) {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return false, err
	}
	s := (*Store)(c)
	if _, err := s.begin(ctx, "ForceReleaseConfigLock"); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	l, held := s.locks[configType]
	if !held {
		return false, nil
	}
	s.removeLockLocked(configType, l)
	return true, nil
}

func (c *canaryStore) ExtendConfigLock(ctx context.Context, configType, rolloutID string, additional time.Duration) (bool, error) {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return false, err
	}
	if err := baldur.ValidateID("rollout id", rolloutID); err != nil {
		return false, err
	}
	additional, err := baldur.LockTimeout(additional)
	if err != nil {
		return false, err
	}
	s := (*Store)(c)
	now, err := s.begin(ctx, "ExtendConfigLock")
	if err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	l, held := s.locks[configType]
	if !held || l.owner != rolloutID {
		return false, nil
	}
	s.deadlines.reset(l.exp, now.Add(additional))
	return true, nil
}

func (s *Store) removeLockLocked(configType string, l *lockEntry) {
	heap.Remove(&s.deadlines, l.exp.index)
	delete(s.locks, configType)
}
