package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/leases"
)

// Defaults of the options.
const (
	DefaultHealthTimeout  = 2 * time.Second
	DefaultRevisionCache  = 10000
	defaultHistoryCacheMB = 16
)

// Store is the etcd backend: the four domain stores, the session provider
// and the health provider over one etcd client. It is safe for concurrent
// use. Create it with New and stop it with Close.
type Store struct {
	cli           *clientv3.Client
	keys          Keys
	log           *zap.Logger
	leases        *leases.Manager
	revs          *revCache
	history       *historyCache
	locks         lockCache
	healthTimeout time.Duration
	ownClient     bool
	revCap        int

	closeOnce  sync.Once
	closeErr   error
	clientOnce sync.Once
	clientErr  error
	closed     chan struct{}
	canary     *canaryStore
	chaos      *chaosStore
	configHist *historyStore
	cross      *crossStore
	sessions   *Sessions
	health     *Health
}

// Option configures a Store. Each option checks its input.
type Option interface{ apply(*Store) error }

type optionFunc func(*Store) error

func (f optionFunc) apply(s *Store) error { return f(s) }

// WithPrefix sets the key prefix (default DefaultPrefix). It must start with
// '/'; a missing trailing '/' is added.
func WithPrefix(prefix string) Option {
	return optionFunc(func(s *Store) error {
		if prefix == "" || prefix[0] != '/' {
			return fmt.Errorf("%w: etcdstore: prefix %q must start with '/'", baldur.ErrInvalidArgument, prefix)
		}
		s.keys = NewKeys(prefix)
		return nil
	})
}

// WithLogger sets the logger (default zap.NewNop()).
func WithLogger(l *zap.Logger) Option {
	return optionFunc(func(s *Store) error {
		if l == nil {
			return fmt.Errorf("%w: etcdstore: WithLogger(nil)", baldur.ErrInvalidArgument)
		}
		s.log = l
		return nil
	})
}

// WithHealthTimeout bounds the linearizable read of a health check (default
// DefaultHealthTimeout).
func WithHealthTimeout(d time.Duration) Option {
	return optionFunc(func(s *Store) error {
		if d <= 0 {
			return fmt.Errorf("%w: etcdstore: health timeout %v is not positive", baldur.ErrInvalidArgument, d)
		}
		s.healthTimeout = d
		return nil
	})
}

// WithOwnClient hands the client to the Store: Close and Health().CloseAll
// close it. Without it the caller keeps the client and closes it itself.
func WithOwnClient() Option {
	return optionFunc(func(s *Store) error {
		s.ownClient = true
		return nil
	})
}

// WithRevisionCache sets how many records' last seen mod revisions the Store
// remembers for optimistic saves (default DefaultRevisionCache).
func WithRevisionCache(n int) Option {
	return optionFunc(func(s *Store) error {
		if n <= 0 {
			return fmt.Errorf("%w: etcdstore: revision cache size %d is not positive", baldur.ErrInvalidArgument, n)
		}
		s.revCap = n
		return nil
	})
}

// New returns a Store over client. Wrap the client's KV or Lease (to count
// or trace requests) before calling New: the Store keeps the Lease it is
// given.
func New(client *clientv3.Client, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: etcdstore: nil client", baldur.ErrInvalidArgument)
	}
	s := &Store{
		cli:           client,
		keys:          NewKeys(DefaultPrefix),
		log:           zap.NewNop(),
		healthTimeout: DefaultHealthTimeout,
		revCap:        DefaultRevisionCache,
		closed:        make(chan struct{}),
	}
	for _, o := range opts {
		if err := o.apply(s); err != nil {
			return nil, err
		}
	}
	m, err := leases.NewManager(client.Lease, leases.WithLogger(s.log))
	if err != nil {
		return nil, err
	}
	s.leases = m
	s.revs = newRevCache(s.revCap)
	s.history = newHistoryCache(s.revCap, defaultHistoryCacheMB<<20)
	s.locks = lockCache{m: make(map[string]lockEntry)}
	s.canary = &canaryStore{s: s}
	s.chaos = &chaosStore{s: s}
	s.configHist = &historyStore{s: s}
	s.cross = &crossStore{s: s}
	s.sessions = &Sessions{s: s}
	s.health = &Health{s: s}
	return s, nil
}

// Canary returns the canary rollout store.
func (s *Store) Canary() baldur.CanaryRolloutStore { return s.canary }

// Chaos returns the chaos experiment store.
func (s *Store) Chaos() baldur.ChaosExperimentStore { return s.chaos }

// ConfigHistory returns the config history store.
func (s *Store) ConfigHistory() baldur.ConfigHistoryStore { return s.configHist }

// CrossCluster returns the cross-cluster store.
func (s *Store) CrossCluster() baldur.CrossClusterStore { return s.cross }

// Sessions returns the session provider.
func (s *Store) Sessions() *Sessions { return s.sessions }

// Health returns the health provider.
func (s *Store) Health() *Health { return s.health }

// Keys returns the key builder of the Store's prefix.
func (s *Store) Keys() Keys { return s.keys }

// Close stops every goroutine the Store started and, with WithOwnClient,
// closes the client. It does not revoke the leases of records: records
// outlive the process. Calls after Close fail with baldur.ErrClosed.
// Idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		err := s.leases.Close()
		s.closeErr = errors.Join(err, s.closeClient())
	})
	return s.closeErr
}

func (s *Store) closeClient() error {
	if !s.ownClient {
		return nil
	}
	s.clientOnce.Do(func() { s.clientErr = s.cli.Close() })
	return s.clientErr
}

// check fails with ErrClosed after Close.
func (s *Store) check() error {
	select {
	case <-s.closed:
		return fmt.Errorf("etcdstore: %w", baldur.ErrClosed)
	default:
		return nil
	}
}

// putLeased puts key=val under a shared lease for ttl, retrying once with a
// fresh lease if the cached one vanished. It returns the put's revision.
func (s *Store) putLeased(ctx context.Context, key string, val []byte, ttl time.Duration) (int64, error) {
	var rev int64
	err := s.leases.WithLease(ctx, ttl, func(id clientv3.LeaseID) error {
		resp, err := s.cli.Put(ctx, key, string(val), clientv3.WithLease(id))
		if err != nil {
			return err
		}
		rev = resp.Header.Revision
		return nil
	})
	return rev, err
}

// saveTTLRecord is the shared path of the TTL'd saves (chaos Save,
// SaveRequest): check, validate id and TTL, encode, put under a shared lease.
// idName names the id in a validation error ("experiment id").
func (s *Store) saveTTLRecord(ctx context.Context, kind, idName, id string, key func(string) string, data baldur.Record, ttl time.Duration) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := baldur.ValidateID(idName, id); err != nil {
		return err
	}
	if err := baldur.ValidateTTL(ttl); err != nil {
		return err
	}
	val, err := baldur.EncodeRecord(data)
	if err != nil {
		return err
	}
	if _, err := s.putLeased(ctx, key(id), val, ttl); err != nil {
		return wrapErr(err, "save", kind, id, len(val))
	}
	return nil
}

// getByID is the shared path of the plain reads (chaos Get, GetRequest,
// GetPolicy): check, validate the id, read.
func (s *Store) getByID(ctx context.Context, kind, idName, id string, key func(string) string) (baldur.Record, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if err := baldur.ValidateID(idName, id); err != nil {
		return nil, err
	}
	r, _, err := s.getRecord(ctx, kind, id, key(id))
	return r, err
}

// getRecord reads and decodes one record; ErrNotFound when absent.
func (s *Store) getRecord(ctx context.Context, kind, id, key string) (baldur.Record, int64, error) {
	resp, err := s.cli.Get(ctx, key)
	if err != nil {
		return nil, 0, wrapErr(err, "get", kind, id, 0)
	}
	if len(resp.Kvs) == 0 {
		return nil, 0, fmt.Errorf("%w: %s %q", baldur.ErrNotFound, kind, id)
	}
	kv := resp.Kvs[0]
	r, err := baldur.DecodeRecord(kv.Value)
	if err != nil {
		return nil, 0, fmt.Errorf("etcdstore: %s %q: %w", kind, id, err)
	}
	return r, kv.ModRevision, nil
}

// listRecords reads every record under a family prefix, sorted by id (etcd
// returns keys in byte order), keeping those keep accepts.
// idPrefix narrows the range to ids starting with it ("" for all).
func (s *Store) listRecords(ctx context.Context, kind, family, idPrefix string, keep func(id string, r baldur.Record) bool) ([]baldur.Record, error) {
	prefix := s.keys.Family(family)
	resp, err := s.cli.Get(ctx, prefix+idPrefix, clientv3.WithPrefix())
	if err != nil {
		return nil, wrapErr(err, "list", kind, prefix, 0)
	}
	out := []baldur.Record{}
	for _, kv := range resp.Kvs {
		id := string(kv.Key[len(prefix):])
		r, err := baldur.DecodeRecord(kv.Value)
		if err != nil {
			return nil, fmt.Errorf("etcdstore: %s %q: %w", kind, id, err)
		}
		if keep == nil || keep(id, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// listIDs returns the ids (key suffixes) under prefix, sorted.
func (s *Store) listIDs(ctx context.Context, kind, prefix string) ([]string, error) {
	resp, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, wrapErr(err, "list", kind, prefix, 0)
	}
	out := make([]string, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		out = append(out, string(kv.Key[len(prefix):]))
	}
	return out, nil
}
