package etcdstore

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/baldur-go/baldur"
)

type crossStore struct{ s *Store }

var (
	_ baldur.CrossClusterStore = (*crossStore)(nil)
	_ baldur.RequestUpdater    = (*crossStore)(nil)
)

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

// UpdateRequest: see the package doc, "Request updates".
func (c *crossStore) UpdateRequest(ctx context.Context, id string, fn func(baldur.Record) (baldur.Record, time.Duration, error)) (baldur.Record, error) {
	s := c.s
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := baldur.ValidateID("request id", id); err != nil {
		return nil, err
	}
	if fn == nil {
		return nil, fmt.Errorf("%w: UpdateRequest of %q with a nil fn", baldur.ErrInvalidArgument, id)
	}
	key := s.keys.Request(id)
	cur, modRev, err := s.getRecord(ctx, kindRequest, id, key)
	if err != nil {
		return nil, err
	}
	for {
		next, ttl, err := fn(cur)
		if err != nil {
			return nil, err
		}
		if err := baldur.ValidateTTL(ttl); err != nil {
			return nil, err
		}
		val, err := baldur.EncodeRecord(next)
		if err != nil {
			return nil, err
		}
		var resp *clientv3.TxnResponse
		err = s.leases.WithLease(ctx, ttl, func(lease clientv3.LeaseID) error {
			var err error
			resp, err = s.cli.Txn(ctx).
				If(clientv3.Compare(clientv3.ModRevision(key), "=", modRev)).
				Then(clientv3.OpPut(key, string(val), clientv3.WithLease(lease))).
				Else(clientv3.OpGet(key)).
				Commit()
			return err
		})
		if err != nil {
			return nil, wrapErr(err, "update", kindRequest, id, len(val))
		}
		if resp.Succeeded {
			return baldur.DecodeRecord(val)
		}
		// Written since we read it: the Else branch read it again in the
		// same request.
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 {
			return nil, fmt.Errorf("%w: %s %q", baldur.ErrNotFound, kindRequest, id)
		}
		if cur, err = baldur.DecodeRecord(kvs[0].Value); err != nil {
			return nil, fmt.Errorf("etcdstore: %s %q: %w", kindRequest, id, err)
		}
		modRev = kvs[0].ModRevision
		if err := ctx.Err(); err != nil {
			return nil, wrapErr(err, "update", kindRequest, id, len(val))
		}
	}
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
