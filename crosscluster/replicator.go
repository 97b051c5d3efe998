package crosscluster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/baldur-go/baldur"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Peer is another cluster the replicator pulls from.
type Peer struct {
	Name   string           // the peer's cluster name, a valid id
	Client *clientv3.Client // a client of the peer's etcd
}

// PeerStatus is a snapshot of one peer's replication.
type PeerStatus struct {
	Peer        string
	Connected   bool          // the watch stream is up
	Checkpoint  int64         // last source revision processed
	Replicated  uint64        // record writes and deletes applied locally
	Errors      uint64        // stream, apply and malformed-record errors
	Resyncs     uint64        // re-lists after compaction
	Skipped     uint64        // malformed records skipped
	Lag         time.Duration // how long the local copy has been behind; 0 when caught up
	LastError   string
	LastApplied time.Time // when the last write from this peer was applied
}

// Replicator copies the policy and request families of every peer into the
// local cluster's etcd (the pull model: each cluster runs one replicator
// that watches all its peers). See doc.go and docs/REPLICATION.md for the
// mechanism.
type Replicator struct {
	local     *clientv3.Client
	localName string
	keys      keyspace
	cfg       replicatorConfig
	log       *zap.Logger
	m         *metrics
	peers     []*peerState
	cache     localCache

	mu      sync.Mutex
	running bool
}

// peerState is the per-peer status; guarded by mu.
type peerState struct {
	Peer

	mu           sync.Mutex
	ready        bool
	connected    bool
	checkpoint   int64
	replicated   uint64
	errors       uint64
	resyncs      uint64
	skipped      uint64
	behindSince  time.Time
	lastError    string
	lastApplied  time.Time
	headRevision int64
	stored       int64     // checkpoint last written to the local etcd
	storedAt     time.Time // when
}

// NewReplicator returns the replicator of cluster localName, writing into
// local and pulling from peers. Peer names must be valid ids, distinct, and
// differ from localName; every client must be non-nil. The clusters must
// form a full mesh (every cluster lists every other as a peer): a cluster
// never forwards what it received.
func NewReplicator(local *clientv3.Client, localName string, peers []Peer, opts ...Option) (*Replicator, error) {
	if local == nil {
		return nil, fmt.Errorf("%w: local etcd client is nil", baldur.ErrInvalidArgument)
	}
	if err := baldur.ValidateID("cluster name", localName); err != nil {
		return nil, err
	}
	cfg := replicatorConfig{
		prefix:     defaultPrefix,
		logger:     zap.NewNop(),
		backoffMin: 100 * time.Millisecond,
		backoffMax: 10 * time.Second,
		batchSize:  60,
	}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil Option", baldur.ErrInvalidArgument)
		}
		if err := o.applyReplicator(&cfg); err != nil {
			return nil, err
		}
	}
	r := &Replicator{
		local:     local,
		localName: localName,
		keys:      newKeyspace(cfg.prefix),
		cfg:       cfg,
		log:       cfg.logger.With(zap.String("cluster", localName)),
		m:         newMetrics(),
	}
	seen := map[string]bool{}
	for _, p := range peers {
		if err := baldur.ValidateID("peer name", p.Name); err != nil {
			return nil, err
		}
		switch {
		case p.Name == localName:
			return nil, fmt.Errorf("%w: peer %q is the local cluster", baldur.ErrInvalidArgument, p.Name)
		case seen[p.Name]:
			return nil, fmt.Errorf("%w: peer %q listed twice", baldur.ErrInvalidArgument, p.Name)
		case p.Client == nil:
			return nil, fmt.Errorf("%w: peer %q has a nil client", baldur.ErrInvalidArgument, p.Name)
		}
		seen[p.Name] = true
		r.peers = append(r.peers, &peerState{Peer: p})
	}
	slices.SortFunc(r.peers, func(a, b *peerState) int { return strings.Compare(a.Name, b.Name) })
	if cfg.registerer != nil {
		if err := r.m.register(cfg.registerer); err != nil {
			return nil, fmt.Errorf("crosscluster: register metrics: %w", err)
		}
	}
	for _, p := range r.peers {
		r.m.replicated.WithLabelValues(p.Name)
		r.m.resyncs.WithLabelValues(p.Name)
		r.m.skipped.WithLabelValues(p.Name)
		r.m.lag.WithLabelValues(p.Name)
		r.m.checkpoint.WithLabelValues(p.Name)
		r.m.connected.WithLabelValues(p.Name)
	}
	return r, nil
}

// Run replicates from every peer until ctx is cancelled, then lets the
// in-flight destination transactions finish and returns nil. It starts one
// goroutine per peer and waits for all of them. A peer that fails is retried
// with backoff; Run itself only returns an error when it is already running.
func (r *Replicator) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.running {
		r.mu.Unlock()
		return fmt.Errorf("crosscluster: replicator of %q is already running", r.localName)
	}
	r.running = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running = false
		r.mu.Unlock()
	}()
	var wg sync.WaitGroup
	for _, p := range r.peers {
		wg.Go(func() { r.runPeer(ctx, p) })
	}
	wg.Wait()
	return nil
}

// Status returns one snapshot per peer, sorted by peer name.
func (r *Replicator) Status() []PeerStatus {
	out := make([]PeerStatus, 0, len(r.peers))
	now := time.Now()
	for _, p := range r.peers {
		p.mu.Lock()
		st := PeerStatus{
			Peer:        p.Name,
			Connected:   p.connected,
			Checkpoint:  p.checkpoint,
			Replicated:  p.replicated,
			Errors:      p.errors,
			Resyncs:     p.resyncs,
			Skipped:     p.skipped,
			LastError:   p.lastError,
			LastApplied: p.lastApplied,
		}
		if !p.behindSince.IsZero() {
			st.Lag = now.Sub(p.behindSince)
		}
		p.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// Ready reports whether every peer has finished its initial list (or, after
// a restart, resumed its watch from the stored checkpoint). It stays true
// afterwards, also while a peer is down: Status tells that.
func (r *Replicator) Ready() bool {
	for _, p := range r.peers {
		p.mu.Lock()
		ok := p.ready
		p.mu.Unlock()
		if !ok {
			return false
		}
	}
	return true
}
