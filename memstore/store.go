package memstore

import (
	"container/heap"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/baldur-go/baldur"
)

// Store holds the state of the four domain stores in memory. It is safe for
// concurrent use; its methods are reached through Canary, Chaos,
// ConfigHistory and CrossCluster. The zero value is not usable: call New.
type Store struct {
	clock clockwork.Clock

	mu        sync.Mutex
	deadlines deadlineHeap // every TTL'd entry and every lock, earliest first

	rollouts    map[string]*ttlEntry
	active      map[string]struct{}
	locks       map[string]*lockEntry
	experiments map[string]*ttlEntry
	counters    map[string]int64
	histories   map[string][][]byte // newest first; the head is the current version
	requests    map[string]*ttlEntry
	pending     map[string]map[string]struct{} // cluster -> ids
	policies    map[string][]byte
}

// Option configures a Store.
type Option interface{ apply(*Store) }

type optionFunc func(*Store)

func (f optionFunc) apply(s *Store) { f(s) }

// WithClock makes the store read time from c instead of the wall clock. Tests
// pass a clockwork.FakeClock and Advance it instead of sleeping. A nil clock
// is a programming error and panics.
func WithClock(c clockwork.Clock) Option {
	if c == nil {
		panic("memstore: WithClock(nil)")
	}
	return optionFunc(func(s *Store) { s.clock = c })
}

// New returns an empty store that uses the wall clock unless WithClock says
// otherwise.
func New(opts ...Option) *Store {
	s := &Store{
		clock:       clockwork.NewRealClock(),
		rollouts:    map[string]*ttlEntry{},
		active:      map[string]struct{}{},
		locks:       map[string]*lockEntry{},
		experiments: map[string]*ttlEntry{},
		counters:    map[string]int64{},
		histories:   map[string][][]byte{},
		requests:    map[string]*ttlEntry{},
		pending:     map[string]map[string]struct{}{},
		policies:    map[string][]byte{},
	}
	for _, o := range opts {
		if o == nil {
			panic("memstore: nil Option")
		}
		o.apply(s)
	}
	return s
}

// Canary returns the canary rollout store.
func (s *Store) Canary() baldur.CanaryRolloutStore { return (*canaryStore)(s) }

// Chaos returns the chaos experiment store.
func (s *Store) Chaos() baldur.ChaosExperimentStore { return (*chaosStore)(s) }

// ConfigHistory returns the config history store.
func (s *Store) ConfigHistory() baldur.ConfigHistoryStore { return (*historyStore)(s) }

// CrossCluster returns the cross-cluster store.
func (s *Store) CrossCluster() baldur.CrossClusterStore { return (*crossClusterStore)(s) }

// family says which map a deadline belongs to.
type family uint8

const (
	famRollout family = iota
	famExperiment
	famRequest
	famLock
)

// ttlEntry is a record with a deadline.
type ttlEntry struct {
	data []byte // compact JSON
	exp  *deadline
}

// lockEntry is a config lock.
type lockEntry struct {
	owner string
	exp   *deadline
}

// begin checks the context, takes the lock and purges what has expired. The
// caller must call s.mu.Unlock. It returns the time the operation runs at.
func (s *Store) begin(ctx context.Context, op string) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, fmt.Errorf("memstore: %s: %w", op, err)
	}
	s.mu.Lock()
	now := s.clock.Now()
	s.purgeLocked(now)
	return now, nil
}

// purgeLocked removes every entry whose deadline is at or before now. An
// entry is never visible at or after its deadline.
func (s *Store) purgeLocked(now time.Time) {
	for len(s.deadlines) > 0 && !s.deadlines[0].at.After(now) {
		d := heap.Pop(&s.deadlines).(*deadline)
		switch d.fam {
		case famRollout:
			delete(s.rollouts, d.key)
		case famExperiment:
			delete(s.experiments, d.key)
		case famRequest:
			delete(s.requests, d.key)
		case famLock:
			delete(s.locks, d.key)
		}
	}
}

// putTTLLocked writes data under key in m with a deadline of now+ttl,
// replacing the entry and its deadline if there is one.
func (s *Store) putTTLLocked(m map[string]*ttlEntry, fam family, key string, data []byte, at time.Time) {
	if e, ok := m[key]; ok {
		e.data = data
		s.deadlines.reset(e.exp, at)
		return
	}
	e := &ttlEntry{data: data, exp: &deadline{at: at, fam: fam, key: key}}
	heap.Push(&s.deadlines, e.exp)
	m[key] = e
}

// deleteTTLLocked removes key from m together with its deadline.
func (s *Store) deleteTTLLocked(m map[string]*ttlEntry, key string) {
	if e, ok := m[key]; ok {
		heap.Remove(&s.deadlines, e.exp.index)
		delete(m, key)
	}
}

// encode validates and encodes a record.
func encode(kind, id string, r baldur.Record) ([]byte, error) {
	b, err := baldur.EncodeRecord(r)
	if err != nil {
		return nil, fmt.Errorf("memstore: %s %q: %w", kind, id, err)
	}
	return b, nil
}

// stored is one record's id and JSON, taken under the lock and decoded after
// it is released. The bytes are never mutated: a write stores a new slice.
type stored struct {
	id   string
	data []byte
}

// decodeSorted decodes items in id order, keeping those keep accepts (all
// when keep is nil). It returns a non-nil slice.
func decodeSorted(kind string, items []stored, keep func(baldur.Record) bool) ([]baldur.Record, error) {
	slices.SortFunc(items, func(a, b stored) int { return strings.Compare(a.id, b.id) })
	out := make([]baldur.Record, 0, len(items))
	for _, it := range items {
		r, err := decode(kind, it.id, it.data)
		if err != nil {
			return nil, err
		}
		if keep == nil || keep(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// decode turns stored JSON into a fresh Record.
func decode(kind, id string, b []byte) (baldur.Record, error) {
	r, err := baldur.DecodeRecord(b)
	if err != nil {
		return nil, fmt.Errorf("memstore: %s %q: %w", kind, id, err)
	}
	return r, nil
}

func notFound(kind, id string) error {
	return fmt.Errorf("memstore: %s %q: %w", kind, id, baldur.ErrNotFound)
}

// counts reports how many entries the store holds, expired or not, for the
// purge tests.
type counts struct {
	rollouts, experiments, requests, locks, deadlines int
}

func (s *Store) countsLocked() counts {
	return counts{
		rollouts:    len(s.rollouts),
		experiments: len(s.experiments),
		requests:    len(s.requests),
		locks:       len(s.locks),
		deadlines:   len(s.deadlines),
	}
}
