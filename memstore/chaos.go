package memstore

import (
	"context"
	"time"

	"github.com/baldur-go/baldur"
)

type chaosStore Store

var _ baldur.ChaosExperimentStore = (*chaosStore)(nil)

func (c *chaosStore) Save(ctx context.Context, id string, data baldur.Record, ttl time.Duration) error {
	if err := baldur.ValidateID("experiment id", id); err != nil {
		return err
	}
	if err := baldur.ValidateTTL(ttl); err != nil {
		return err
	}
	b, err := encode("experiment", id, data)
	if err != nil {
		return err
	}
	s := (*Store)(c)
	now, err := s.begin(ctx, "Save")
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.putTTLLocked(s.experiments, famExperiment, id, b, now.Add(ttl))
	return nil
}

func (c *chaosStore) Get(ctx context.Context, id string) (baldur.Record, error) {
	if err := baldur.ValidateID("experiment id", id); err != nil {
		return nil, err
	}
	s := (*Store)(c)
	if _, err := s.begin(ctx, "Get"); err != nil {
		return nil, err
	}
	var data []byte
	e, ok := s.experiments[id]
	if ok {
		data = e.data // the slice, not the entry: a write replaces e.data
	}
	s.mu.Unlock()
	if !ok {
		return nil, notFound("experiment", id)
	}
	return decode("experiment", id, data)
}

func (c *chaosStore) Delete(ctx context.Context, id string) error {
	if err := baldur.ValidateID("experiment id", id); err != nil {
		return err
	}
	s := (*Store)(c)
	if _, err := s.begin(ctx, "Delete"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.deleteTTLLocked(s.experiments, id)
	return nil
}

func (c *chaosStore) FindActive(ctx context.Context) ([]baldur.Record, error) {
	s := (*Store)(c)
	if _, err := s.begin(ctx, "FindActive"); err != nil {
		return nil, err
	}
	all := make([]stored, 0, len(s.experiments))
	for id, e := range s.experiments {
		all = append(all, stored{id, e.data})
	}
	s.mu.Unlock()
	return decodeSorted("experiment", all, func(r baldur.Record) bool {
		status, ok := r["status"].(string)
		return ok && status == "active"
	})
}
