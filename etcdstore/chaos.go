package etcdstore

import (
	"context"
	"time"

	"github.com/baldur-go/baldur"
)

type chaosStore struct{ s *Store }

var _ baldur.ChaosExperimentStore = (*chaosStore)(nil)

const kindExperiment = "experiment"

func (c *chaosStore) Save(ctx context.Context, id string, data baldur.Record, ttl time.Duration) error {
	return c.s.saveTTLRecord(ctx, kindExperiment, "experiment id", id, c.s.keys.Experiment, data, ttl)
}

func (c *chaosStore) Get(ctx context.Context, id string) (baldur.Record, error) {
	return c.s.getByID(ctx, kindExperiment, "experiment id", id, c.s.keys.Experiment)
}

func (c *chaosStore) Delete(ctx context.Context, id string) error {
	s := c.s
	if err := s.check(); err != nil {
		return err
	}
	if err := baldur.ValidateID("experiment id", id); err != nil {
		return err
	}
	if _, err := s.cli.Delete(ctx, s.keys.Experiment(id)); err != nil {
		return wrapErr(err, "delete", kindExperiment, id, 0)
	}
	return nil
}

// FindActive reads the whole family and filters on status: etcd has no
// secondary index, and the experiment count is small (a status index key
// would double every write for a read that runs on a schedule).
func (c *chaosStore) FindActive(ctx context.Context) ([]baldur.Record, error) {
	if err := c.s.check(); err != nil {
		return nil, err
	}
	return c.s.listRecords(ctx, kindExperiment, FamilyExperiment, "", func(_ string, r baldur.Record) bool {
		st, ok := r["status"].(string)
		return ok && st == "active"
	})
}
