package leases

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// MinTTL is the shortest lease this package grants. etcd refuses to keep a
// lease shorter than about 1.5 election timeouts; 2 s is the documented
// floor of the whole project (CONTRACT.md: round up, never less than 2 s).
const MinTTL = 2 * time.Second

// DefaultMaxKeysPerLease caps how many records share one lease. Revoking or
// expiring a lease deletes its keys in one raft entry; a cap keeps that entry
// small. Kubernetes' apiserver uses the same figure for its lease manager.
const DefaultMaxKeysPerLease = 1000

// ErrClosed is returned by a Manager after Close.
var ErrClosed = errors.New("leases: manager closed")

// MaxOvershoot is how much later than its deadline a shared lease may expire
// when the TTL is a whole number of seconds. With etcd's expiry check (every
// 500 ms) a record is gone less than a second after its TTL. A TTL with a
// fraction of a second may overshoot by up to the rounding to whole seconds.
const MaxOvershoot = 400 * time.Millisecond

// Manager hands out etcd leases for records with a TTL and keeps alive the
// leases that must live as long as the process (see KeepAlive). The package
// doc explains how record leases are shared.
//
// A Manager is safe for concurrent use. Close stops every goroutine it
// started and revokes the leases it kept alive; it never revokes record
// leases, which outlive the process like TTLs in any other store.
type Manager struct {
	lease   clientv3.Lease
	log     *zap.Logger
	maxKeys int
	now     func() time.Time

	mu      sync.Mutex
	classes map[time.Duration]*class // shared leases by TTL
	held    map[clientv3.LeaseID]*Held
	closed  bool

	ctx    context.Context // cancelled by Close; parent of every keep-alive
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// class holds the shared leases of one TTL.
type class struct {
	ttl         time.Duration
	slack       time.Duration // how late a lease may expire: MaxOvershoot, or the rounding of ttl
	exactSecs   int64         // ceil(ttl): a lease for a request right now
	aheadSecs   int64         // floor(ttl)+1: a lease for requests up to a second from now
	leases      []*sharedLease
	prefetching bool
	lastUse     time.Time
	calls       int       // calls since rateStart
	rateStart   time.Time // start of the current rate window
	rate        float64   // calls per second over the last window
}

// maxAhead caps how many leases one prefetch grants.
const maxAhead = 16

// count records a call at now and updates the class's call rate, measured
// over windows of about a second.
func (c *class) count(now time.Time) {
	c.calls++
	if c.rateStart.IsZero() {
		c.rateStart = now
		return
	}
	if d := now.Sub(c.rateStart); d >= time.Second {
		c.rate = float64(c.calls) / d.Seconds()
		c.calls, c.rateStart = 0, now
	}
}

type sharedLease struct {
	id      clientv3.LeaseID
	expires time.Time // lower bound: the clock was read before the grant was sent
	keys    int
}

// serves reports whether l can carry a record whose call started at now:
// it expires no earlier than now+ttl and at most slack later.
func (c *class) serves(l *sharedLease, now time.Time, maxKeys int) bool {
	d := now.Add(c.ttl)
	return l.keys < maxKeys && !l.expires.Before(d) && !l.expires.After(d.Add(c.slack))
}

// horizon is the latest call start any of the class's leases can serve.
func (c *class) horizon(maxKeys int) time.Time {
	var h time.Time
	for _, l := range c.leases {
		if l.keys < maxKeys {
			if t := l.expires.Add(-c.ttl); t.After(h) {
				h = t
			}
		}
	}
	return h
}

// prune drops the leases that are full or can serve no call from now on.
func (c *class) prune(now time.Time, maxKeys int) {
	kept := make([]*sharedLease, 0, len(c.leases))
	for _, l := range c.leases {
		if l.keys < maxKeys && !l.expires.Add(-c.ttl).Before(now) {
			kept = append(kept, l)
		}
	}
	c.leases = kept
}

// Option configures a Manager.
type Option interface{ apply(*Manager) error }

type optionFunc func(*Manager) error

func (f optionFunc) apply(m *Manager) error { return f(m) }

// WithLogger sets the logger; the default is zap.NewNop().
func WithLogger(l *zap.Logger) Option {
	return optionFunc(func(m *Manager) error {
		if l == nil {
			return errors.New("leases: WithLogger(nil)")
		}
		m.log = l
		return nil
	})
}

// WithMaxKeysPerLease caps how many Lease calls one shared lease serves
// (default DefaultMaxKeysPerLease). n must be positive.
func WithMaxKeysPerLease(n int) Option {
	return optionFunc(func(m *Manager) error {
		if n <= 0 {
			return fmt.Errorf("leases: WithMaxKeysPerLease(%d): want a positive count", n)
		}
		m.maxKeys = n
		return nil
	})
}

// NewManager returns a Manager granting leases through lease (usually the
// client's Lease, or a wrapper around it).
func NewManager(lease clientv3.Lease, opts ...Option) (*Manager, error) {
	if lease == nil {
		return nil, errors.New("leases: NewManager: nil lease client")
	}
	m := &Manager{
		lease:   lease,
		log:     zap.NewNop(),
		maxKeys: DefaultMaxKeysPerLease,
		now:     time.Now,
		classes: make(map[time.Duration]*class),
		held:    make(map[clientv3.LeaseID]*Held),
	}
	for _, o := range opts {
		if err := o.apply(m); err != nil {
			return nil, err
		}
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// Seconds converts a duration to etcd's whole seconds: rounded up, never
// below MinTTL.
func Seconds(d time.Duration) int64 {
	if d < MinTTL {
		d = MinTTL
	}
	return int64(math.Ceil(d.Seconds()))
}

// Lease returns a lease for a record written now with ttl (below MinTTL:
// MinTTL). The lease expires no earlier than the call's start plus ttl and,
// for a whole-second ttl, at most MaxOvershoot later. A cached lease is
// returned when one fits; otherwise one is granted. Attach exactly one key
// per call: the call counts towards the lease's key cap.
//
// If etcd later answers rpctypes.ErrLeaseNotFound for the returned lease
// (revoked or expired between this call and its use), call Forget and ask
// again, or use WithLease, which does both.
func (m *Manager) Lease(ctx context.Context, ttl time.Duration) (clientv3.LeaseID, error) {
	if ttl <= 0 {
		return 0, fmt.Errorf("leases: ttl %v is not positive", ttl)
	}
	if ttl < MinTTL {
		ttl = MinTTL
	}
	// The clock is read before waiting for the mutex: a caller that queued
	// behind another caller's grant can use the lease granted after it.
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	c := m.classLocked(ttl)
	c.count(now)
	// Grant ahead only for a flow of saves (the previous one less than a
	// second ago), not for an isolated save.
	if !c.lastUse.IsZero() && now.Sub(c.lastUse) < time.Second {
		m.prefetchLocked(c, now)
	}
	c.lastUse = now
	for _, l := range c.leases {
		if c.serves(l, now, m.maxKeys) {
			l.keys++
			return l.id, nil
		}
	}
	// Nothing fits: grant one for this call. The mutex is held across the
	// grant on purpose: callers arriving meanwhile wait and then share it.
	sent := m.now()
	resp, err := m.lease.Grant(ctx, c.exactSecs)
	if err != nil {
		return 0, fmt.Errorf("leases: grant %d s: %w", c.exactSecs, err)
	}
	l := &sharedLease{id: resp.ID, expires: sent.Add(time.Duration(resp.TTL) * time.Second), keys: 1}
	m.pruneLocked(now)
	c.leases = append(c.leases, l)
	return l.id, nil
}

func (m *Manager) classLocked(ttl time.Duration) *class {
	if c, ok := m.classes[ttl]; ok {
		return c
	}
	exact := int64(math.Ceil(ttl.Seconds()))
	c := &class{
		ttl:       ttl,
		slack:     max(MaxOvershoot, time.Duration(exact)*time.Second-ttl),
		exactSecs: exact,
		aheadSecs: int64(math.Floor(ttl.Seconds())) + 1,
	}
	m.classes[ttl] = c
	return c
}

// prefetchLocked grants, in the background, the lease the class will need
// soon. etcd counts a lease's TTL in whole seconds from its grant, so a lease
// granted now for a whole-second TTL fits only calls made now (or a second
// later, with a TTL one second longer). Under a steady flow of saves the
// Manager therefore grants ahead: a lease of floor(ttl)+1 seconds serves the
// calls made between 0.6 and 1 s after its grant, and one is granted whenever
// the cached leases stop serving before now + 0.7 s, as many as the calls of
// the last second say one window needs (a lease carries at most maxKeys). A
// flow of saves with one TTL thus costs about three grants a second (more
// above a thousand saves a second), off the saves' path.
func (m *Manager) prefetchLocked(c *class, now time.Time) {
	lead := time.Duration(c.aheadSecs)*time.Second - c.ttl // how far ahead such a lease serves
	if c.prefetching || lead <= c.slack {
		return // a lease granted now already serves the next calls
	}
	// Trigger while the cached leases still serve 0.1 s past the earliest
	// call a lease granted now will serve, so that consecutive windows
	// overlap by the grant's round trip.
	if c.horizon(m.maxKeys).After(now.Add(lead - c.slack + c.slack/4)) {
		return
	}
	// Enough leases for the calls expected in one window (a lease serves at
	// most maxKeys of them), with half as many again to spare.
	n := int(math.Ceil(c.rate * c.slack.Seconds() * 1.5 / float64(m.maxKeys)))
	n = min(max(n, 1), maxAhead)
	c.prefetching = true
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer func() {
			m.mu.Lock()
			c.prefetching = false
			m.mu.Unlock()
		}()
		for range n {
			sent := m.now()
			resp, err := m.lease.Grant(m.ctx, c.aheadSecs)
			if err != nil {
				if m.ctx.Err() == nil {
					m.log.Debug("granting a lease ahead failed", zap.Int64("ttl", c.aheadSecs), zap.Error(err))
				}
				return
			}
			m.mu.Lock()
			c.prune(sent, m.maxKeys)
			c.leases = append(c.leases, &sharedLease{id: resp.ID, expires: sent.Add(time.Duration(resp.TTL) * time.Second)})
			m.mu.Unlock()
		}
	}()
}

// pruneLocked drops leases that can serve no future call, and classes idle
// for a minute with no lease left.
func (m *Manager) pruneLocked(now time.Time) {
	for ttl, c := range m.classes {
		c.prune(now, m.maxKeys)
		if len(c.leases) == 0 && !c.prefetching && now.Sub(c.lastUse) > time.Minute {
			delete(m.classes, ttl)
		}
	}
}

// Forget drops a shared lease from the cache, typically after etcd answered
// rpctypes.ErrLeaseNotFound for it.
func (m *Manager) Forget(id clientv3.LeaseID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.classes {
		for i, l := range c.leases {
			if l.id == id {
				c.leases = append(c.leases[:i:i], c.leases[i+1:]...)
				return
			}
		}
	}
}

// SharedLeases reports how many shared leases the cache holds.
func (m *Manager) SharedLeases() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.classes {
		n += len(c.leases)
	}
	return n
}

// IsLeaseNotFound reports whether err is etcd's "requested lease not found".
func IsLeaseNotFound(err error) bool {
	return errors.Is(err, rpctypes.ErrLeaseNotFound)
}

// WithLease runs put with a shared lease for ttl. When etcd answers that the
// lease is gone (it was revoked or expired between the grant and the put), it
// forgets that lease and runs put once more with a fresh one.
func (m *Manager) WithLease(ctx context.Context, ttl time.Duration, put func(clientv3.LeaseID) error) error {
	for attempt := 0; ; attempt++ {
		id, err := m.Lease(ctx, ttl)
		if err != nil {
			return err
		}
		err = put(id)
		if err == nil || attempt > 0 || !IsLeaseNotFound(err) {
			return err
		}
		m.log.Debug("shared lease vanished, retrying with a fresh one", zap.Int64("lease", int64(id)))
		m.Forget(id)
	}
}

// Close stops every keep-alive, revokes the leases kept alive by KeepAlive
// (each with a short timeout) and waits for the goroutines. Shared record
// leases are left to expire. Close is idempotent.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	held := make([]*Held, 0, len(m.held))
	for _, h := range m.held {
		held = append(held, h)
	}
	m.mu.Unlock()

	m.cancel()
	m.wg.Wait()
	var errs []error
	for _, h := range held {
		if err := h.revoke(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
