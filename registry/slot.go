package registry

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/baldur-go/baldur"
)

// ErrCycle is returned by Get when resolving a name would wait on its own
// build: a factory that resolves its own slot and name, directly or through
// other slots, in its goroutine or in goroutines that carry its context.
var ErrCycle = errors.New("registry: factory resolves its own slot")

// Factory builds the instance of one registration. It gets the context of
// the Get that triggered the build, marked with the chain of builds in
// progress: pass it (or a context derived from it) to every Get the factory
// makes, so a cycle is reported as ErrCycle instead of a deadlock.
type Factory[T any] func(ctx context.Context) (T, error)

// Slot holds the registrations of one contract: named factories, the
// default name (the first registered), and the instances built so far. A
// Slot is safe for concurrent use; its zero value is not usable, use
// NewSlot.
type Slot[T any] struct {
	contract string

	mu        sync.Mutex
	factories map[string]*registration[T]
	def       string
	instances map[string]T
	building  map[string]*build[T]
	epoch     uint64 // bumped by ClearInstances and Reset
}

// registration is one Register call; a build caches its result only if the
// registration it ran is still current.
type registration[T any] struct{ f Factory[T] }

// build is one factory run in progress; concurrent Gets of the name wait on
// done and share the result.
type build[T any] struct {
	node
	reg   *registration[T]
	epoch uint64
	done  chan struct{}

	waiters atomic.Int32 // Gets waiting on done; for tests and debugging

	// Set before done is closed.
	val        T
	err        error
	builderCtx bool // the builder's context was done when the factory failed
}

// NewSlot returns an empty slot; contract names it in errors
// ("governance", "dlq", ...).
func NewSlot[T any](contract string) *Slot[T] {
	return &Slot[T]{
		contract:  contract,
		factories: map[string]*registration[T]{},
		instances: map[string]T{},
		building:  map[string]*build[T]{},
	}
}

// Contract returns the name the slot was made with.
func (s *Slot[T]) Contract() string { return s.contract }

// Register adds or overwrites the factory for name and drops the instance
// the old factory built. The first name registered (since NewSlot or Reset)
// becomes the default. It panics on an empty name or a nil factory, which
// are programmer errors.
func (s *Slot[T]) Register(name string, f Factory[T]) {
	if name == "" {
		panic(fmt.Sprintf("registry: %s: Register with an empty name", s.contract))
	}
	if f == nil {
		panic(fmt.Sprintf("registry: %s: Register %q with a nil factory", s.contract, name))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.factories[name] = &registration[T]{f: f}
	delete(s.instances, name)
	if s.def == "" {
		s.def = name
	}
}

// Default returns the default name, "" when nothing is registered.
func (s *Slot[T]) Default() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.def
}

// Names returns the registered names, sorted.
func (s *Slot[T]) Names() []string {
	s.mu.Lock()
	names := make([]string, 0, len(s.factories))
	for n := range s.factories {
		names = append(names, n)
	}
	s.mu.Unlock()
	sort.Strings(names)
	return names
}

// Get returns the instance registered under name ("" for the default),
// building it on first use and caching it. Concurrent Gets of one name share
// one factory run. An unknown name (or "" with nothing registered) is
// baldur.ErrAdapterNotFound. A factory's error is returned wrapped with the
// contract and name, and nothing is cached, so the next Get runs the factory
// again. A name whose build is already in progress in the caller's chain of
// builds (see Factory) is ErrCycle. While waiting for another goroutine's
// build, Get returns early when ctx is done.
func (s *Slot[T]) Get(ctx context.Context, name string) (T, error) {
	v, _, err := s.get(ctx, name)
	return v, err
}

// SafeGet is Get, except that a name that is not registered gives the zero
// value and a nil error. Every other error (a failing factory, ErrCycle, a
// cancelled wait) is still returned.
func (s *Slot[T]) SafeGet(ctx context.Context, name string) (T, error) {
	v, notFound, err := s.get(ctx, name)
	if notFound {
		var zero T
		return zero, nil
	}
	return v, err
}

// ClearInstances drops every built instance and keeps the registrations:
// the next Get of each name runs its factory again. A build in progress
// finishes for its callers but is not cached.
func (s *Slot[T]) ClearInstances() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.instances = map[string]T{}
	s.epoch++
}

// Reset drops every registration, the default and every instance.
func (s *Slot[T]) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.factories = map[string]*registration[T]{}
	s.def = ""
	s.instances = map[string]T{}
	s.building = map[string]*build[T]{}
	s.epoch++
}

func (s *Slot[T]) get(ctx context.Context, name string) (v T, notFound bool, err error) {
	parent := frameFrom(ctx)
	for {
		s.mu.Lock()
		n := name
		if n == "" {
			n = s.def
		}
		reg := s.factories[n]
		if reg == nil {
			s.mu.Unlock()
			if name == "" {
				return v, true, fmt.Errorf("%w: %s has no default (nothing registered)", baldur.ErrAdapterNotFound, s.contract)
			}
			return v, true, fmt.Errorf("%w: %s %q is not registered", baldur.ErrAdapterNotFound, s.contract, n)
		}
		if inst, ok := s.instances[n]; ok {
			s.mu.Unlock()
			return inst, false, nil
		}
		if parent.building(s, n) {
			s.mu.Unlock()
			return v, false, fmt.Errorf("%w: %s", ErrCycle, parent.chain(s.contract, n))
		}
		if b := s.building[n]; b != nil {
			s.mu.Unlock()
			v, retry, err := s.wait(ctx, parent, b)
			if retry {
				continue
			}
			return v, false, err
		}
		b := &build[T]{
			node:  node{slot: s, contract: s.contract, name: n},
			reg:   reg,
			epoch: s.epoch,
			done:  make(chan struct{}),
		}
		s.building[n] = b
		s.mu.Unlock()
		v, err := s.run(ctx, parent, b)
		return v, false, err
	}
}

// wait blocks until b is built, ctx is done, or waiting would close a
// cycle in the wait-for graph. retry reports that b failed only because its
// builder's context was done while the caller's is not: the caller builds
// again instead of inheriting a cancellation that is not its own.
func (s *Slot[T]) wait(ctx context.Context, parent *frame, b *build[T]) (v T, retry bool, err error) {
	if parent != nil {
		me := parent.n
		me.addWait(&b.node)
		defer me.removeWait(&b.node)
		if reaches(&b.node, me) {
			return v, false, fmt.Errorf("%w: %s", ErrCycle, parent.chain(b.contract, b.name))
		}
	}
	b.waiters.Add(1)
	defer b.waiters.Add(-1)
	select {
	case <-b.done:
	case <-ctx.Done():
		return v, false, fmt.Errorf("registry: waiting for %s %q: %w", b.contract, b.name, context.Cause(ctx))
	}
	if b.err != nil {
		if b.builderCtx && ctx.Err() == nil {
			return v, true, nil
		}
		return v, false, b.err
	}
	return b.val, false, nil
}

// run calls the factory with ctx marked by b and publishes the result. If
// the factory panics, waiters get an error and the panic goes on up.
func (s *Slot[T]) run(ctx context.Context, parent *frame, b *build[T]) (T, error) {
	if parent != nil {
		// The caller's build waits on this one as surely as if another
		// goroutine ran it: the edge keeps the wait-for graph complete.
		parent.n.addWait(&b.node)
		defer parent.n.removeWait(&b.node)
	}
	fctx := context.WithValue(ctx, frameKey{}, &frame{n: &b.node, parent: parent})
	finished := false
	defer func() {
		if !finished {
			b.err = fmt.Errorf("registry: %s %q: factory panicked", s.contract, b.name)
			s.finish(b)
		}
	}()
	v, err := b.reg.f(fctx)
	if err != nil {
		var zero T
		b.val, b.err, b.builderCtx = zero, fmt.Errorf("registry: %s %q: %w", s.contract, b.name, err), ctx.Err() != nil
	} else {
		b.val = v
	}
	finished = true
	s.finish(b)
	return b.val, b.err
}

func (s *Slot[T]) finish(b *build[T]) {
	s.mu.Lock()
	if s.building[b.name] == b {
		delete(s.building, b.name)
	}
	if b.err == nil && s.factories[b.name] == b.reg && s.epoch == b.epoch {
		s.instances[b.name] = b.val
	}
	s.mu.Unlock()
	b.finished.Store(true)
	close(b.done)
}
