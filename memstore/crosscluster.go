package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/baldur-go/baldur"
)

type crossClusterStore Store

var (
	_ baldur.CrossClusterStore = (*crossClusterStore)(nil)
	_ baldur.RequestUpdater    = (*crossClusterStore)(nil)
)

func (c *crossClusterStore) SaveRequest(ctx context.Context, id string, data baldur.Record, ttl time.Duration) error {
	if err := baldur.ValidateID("request id", id); err != nil {
		return err
	}
	if err := baldur.ValidateTTL(ttl); err != nil {
		return err
	}
	b, err := encode("request", id, data)
	if err != nil {
		return err
	}
	s := (*Store)(c)
	now, err := s.begin(ctx, "SaveRequest")
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.putTTLLocked(s.requests, famRequest, id, b, now.Add(ttl))
	return nil
}

func (c *crossClusterStore) GetRequest(ctx context.Context, id string) (baldur.Record, error) {
	if err := baldur.ValidateID("request id", id); err != nil {
		return nil, err
	}
	s := (*Store)(c)
	if _, err := s.begin(ctx, "GetRequest"); err != nil {
		return nil, err
	}
	var data []byte
	e, ok := s.requests[id]
	if ok {
		data = e.data // the slice, not the entry: a write replaces e.data
	}
	s.mu.Unlock()
	if !ok {
		return nil, notFound("request", id)
	}
	return decode("request", id, data)
}

// UpdateRequest is optimistic: it takes the entry and its JSON under the
// lock, calls fn without the lock, and writes only if the entry still holds
// the same JSON slice (every write stores a new slice, and the old one is
// kept alive by this call, so its address cannot be reused); otherwise it
// starts over.
func (c *crossClusterStore) UpdateRequest(ctx context.Context, id string, fn func(baldur.Record) (baldur.Record, time.Duration, error)) (baldur.Record, error) {
	if err := baldur.ValidateID("request id", id); err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, fmt.Errorf("%w: UpdateRequest of %q with a nil fn", baldur.ErrInvalidArgument, id)
	}
	s := (*Store)(c)
	for {
		if _, err := s.begin(ctx, "UpdateRequest"); err != nil {
			return nil, err
		}
		e, ok := s.requests[id]
		var seen []byte
		if ok {
			seen = e.data
		}
		s.mu.Unlock()
		if !ok {
			return nil, notFound("request", id)
		}
		cur, err := decode("request", id, seen)
		if err != nil {
			return nil, err
		}
		next, ttl, err := fn(cur)
		if err != nil {
			return nil, err
		}
		if err := baldur.ValidateTTL(ttl); err != nil {
			return nil, err
		}
		b, err := encode("request", id, next)
		if err != nil {
			return nil, err
		}
		now, err := s.begin(ctx, "UpdateRequest")
		if err != nil {
			return nil, err
		}
		if again, ok := s.requests[id]; ok && again == e && sameBytes(again.data, seen) {
			s.putTTLLocked(s.requests, famRequest, id, b, now.Add(ttl))
			s.mu.Unlock()
			return decode("request", id, b)
		}
		s.mu.Unlock()
	}
}

// sameBytes reports whether a and b are the same slice (not merely equal).
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func (c *crossClusterStore) AddPending(ctx context.Context, cluster, id string) error {
	if err := baldur.ValidateID("cluster", cluster); err != nil {
		return err
	}
	if err := baldur.ValidateID("request id", id); err != nil {
		return err
	}
	s := (*Store)(c)
	if _, err := s.begin(ctx, "AddPending"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	set, ok := s.pending[cluster]
	if !ok {
		set = map[string]struct{}{}
		s.pending[cluster] = set
	}
	set[id] = struct{}{}
	return nil
}

func (c *crossClusterStore) RemovePending(ctx context.Context, cluster, id string) error {
	if err := baldur.ValidateID("cluster", cluster); err != nil {
		return err
	}
	if err := baldur.ValidateID("request id", id); err != nil {
		return err
	}
	s := (*Store)(c)
	if _, err := s.begin(ctx, "RemovePending"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	set := s.pending[cluster]
	delete(set, id)
	if len(set) == 0 {
		delete(s.pending, cluster) // an empty set is no set: nothing leaks
	}
	return nil
}

func (c *crossClusterStore) GetPendingIDs(ctx context.Context, cluster string) ([]string, error) {
	if err := baldur.ValidateID("cluster", cluster); err != nil {
		return nil, err
	}
	s := (*Store)(c)
	if _, err := s.begin(ctx, "GetPendingIDs"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	set := s.pending[cluster]
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

func (c *crossClusterStore) SavePolicy(ctx context.Context, id string, data baldur.Record) error {
	if err := baldur.ValidateID("policy id", id); err != nil {
		return err
	}
	b, err := encode("policy", id, data)
	if err != nil {
		return err
	}
	s := (*Store)(c)
	if _, err := s.begin(ctx, "SavePolicy"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.policies[id] = b
	return nil
}

func (c *crossClusterStore) GetPolicy(ctx context.Context, id string) (baldur.Record, error) {
	if err := baldur.ValidateID("policy id", id); err != nil {
		return nil, err
	}
	s := (*Store)(c)
	if _, err := s.begin(ctx, "GetPolicy"); err != nil {
		return nil, err
	}
	b, ok := s.policies[id]
	s.mu.Unlock()
	if !ok {
		return nil, notFound("policy", id)
	}
	return decode("policy", id, b)
}

func (c *crossClusterStore) ListPolicies(ctx context.Context) ([]baldur.Record, error) {
	s := (*Store)(c)
	if _, err := s.begin(ctx, "ListPolicies"); err != nil {
		return nil, err
	}
	all := make([]stored, 0, len(s.policies))
	for id, b := range s.policies {
		all = append(all, stored{id, b})
	}
	s.mu.Unlock()
	return decodeSorted("policy", all, nil)
}
