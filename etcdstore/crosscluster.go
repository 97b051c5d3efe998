package etcdstore

import (
	"context"
	"time"

	"github.com/baldur-go/baldur"
)

type crossStore struct{ s *Store }

var _ baldur.CrossClusterStore = (*crossStore)(nil)

const (
	kindRequest = "propagation request"
	kindPolicy  = "policy"
)

func (c *crossStore) SaveRequest(ctx context.Context, id string, data baldur.Record, ttl time.Duration) error {
	return c.s.saveTTLRecord(ctx, kindRequest, "request id", id, c.s.keys.Request, data, ttl)
}

func (c *crossStore) GetRequest(ctx context.Context, id string) (baldur.Record, error) {
	return c.s.getByID(ctx, kindRequest, "request id", id, c.s.keys.Request)
}

func (c *crossStore) AddPending(ctx context.Context, cluster, id string) error {
	s := c.s
	if err := s.check(); err != nil {
		return err
	}
	if err := validatePending(cluster, id); err != nil {
		return err
	}
	if _, err := s.cli.Put(ctx, s.keys.Pending(cluster, id), ""); err != nil {
		return wrapErr(err, "add pending", kindRequest, cluster+"/"+id, 0)
	}
	return nil
}

func (c *crossStore) RemovePending(ctx context.Context, cluster, id string) error {
	s := c.s
	if err := s.check(); err != nil {
		return err
	}
	if err := validatePending(cluster, id); err != nil {
		return err
	}
	if _, err := s.cli.Delete(ctx, s.keys.Pending(cluster, id)); err != nil {
		return wrapErr(err, "remove pending", kindRequest, cluster+"/"+id, 0)
	}
	return nil
}

func (c *crossStore) GetPendingIDs(ctx context.Context, cluster string) ([]string, error) {
	s := c.s
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := baldur.ValidateID("cluster", cluster); err != nil {
		return nil, err
	}
	return s.listIDs(ctx, "pending set", s.keys.PendingSet(cluster))
}

func (c *crossStore) SavePolicy(ctx context.Context, id string, data baldur.Record) error {
	s := c.s
	if err := s.check(); err != nil {
		return err
	}
	if err := baldur.ValidateID("policy id", id); err != nil {
		return err
	}
	val, err := baldur.EncodeRecord(data)
	if err != nil {
		return err
	}
	if _, err := s.cli.Put(ctx, s.keys.Policy(id), string(val)); err != nil {
		return wrapErr(err, "save", kindPolicy, id, len(val))
	}
	return nil
}

func (c *crossStore) GetPolicy(ctx context.Context, id string) (baldur.Record, error) {
	return c.s.getByID(ctx, kindPolicy, "policy id", id, c.s.keys.Policy)
}

func (c *crossStore) ListPolicies(ctx context.Context) ([]baldur.Record, error) {
	if err := c.s.check(); err != nil {
		return nil, err
	}
	return c.s.listRecords(ctx, kindPolicy, FamilyPolicy, "", nil)
}

func validatePending(cluster, id string) error {
	if err := baldur.ValidateID("cluster", cluster); err != nil {
		return err
	}
	return baldur.ValidateID("request id", id)
}
