package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/baldur-go/baldur"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type thing struct{ id int }

// counting returns a factory that makes a new *thing per call and counts
// the calls.
func counting(calls *atomic.Int32) Factory[*thing] {
	return func(context.Context) (*thing, error) {
		n := calls.Add(1)
		return &thing{id: int(n)}, nil
	}
}

// noDeadlock runs f and fails the test if it has not returned within a
// minute: a guard against a hung suite, not a speed assertion.
func noDeadlock(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("deadlock: still blocked after a minute")
	}
}

func TestGetBuildsOnceUnderConcurrency(t *testing.T) {
	s := NewSlot[*thing]("test")
	var calls atomic.Int32
	release := make(chan struct{})
	s.Register("a", func(ctx context.Context) (*thing, error) {
		calls.Add(1)
		<-release // hold the build open so the other Gets pile up on it
		return &thing{id: 1}, nil
	})
	const n = 32
	ctx := context.Background()
	got := make([]*thing, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i], errs[i] = s.Get(ctx, "a")
		}()
	}
	close(start)
	// Let the build start and every other goroutine reach it, then release.
	waitFor(t, func() bool {
		s.mu.Lock()
		b := s.building["a"]
		s.mu.Unlock()
		return b != nil && b.waiters.Load() == n-1
	})
	close(release)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Get %d: %v", i, errs[i])
		}
		if got[i] != got[0] {
			t.Fatalf("Get %d returned another instance: %p vs %p", i, got[i], got[0])
		}
	}
	if c := calls.Load(); c != 1 {
		t.Fatalf("factory ran %d times, want 1", c)
	}
	again, _ := s.Get(ctx, "a")
	if again != got[0] || calls.Load() != 1 {
		t.Fatal("a later Get did not return the cached instance")
	}
}

// waitFor polls cond until it holds (bounded by a generous guard).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within a minute")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRegisterOverwritesAndDropsInstance(t *testing.T) {
	ctx := context.Background()
	s := NewSlot[string]("test")
	s.Register("a", func(context.Context) (string, error) { return "v1", nil })
	if v, err := s.Get(ctx, "a"); err != nil || v != "v1" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	s.Register("a", func(context.Context) (string, error) { return "v2", nil })
	if v, err := s.Get(ctx, "a"); err != nil || v != "v2" {
		t.Fatalf("after overwrite Get = %q, %v; want v2", v, err)
	}
	if names := s.Names(); fmt.Sprint(names) != "[a]" {
		t.Fatalf("Names = %v", names)
	}
}

func TestFirstRegisteredIsDefault(t *testing.T) {
	ctx := context.Background()
	s := NewSlot[string]("test")
	if s.Default() != "" {
		t.Fatalf("empty slot default = %q", s.Default())
	}
	s.Register("first", func(context.Context) (string, error) { return "1", nil })
	s.Register("second", func(context.Context) (string, error) { return "2", nil })
	s.Register("first", func(context.Context) (string, error) { return "1b", nil }) // overwrite keeps the default
	if s.Default() != "first" {
		t.Fatalf("Default = %q, want first", s.Default())
	}
	if v, err := s.Get(ctx, ""); err != nil || v != "1b" {
		t.Fatalf(`Get("") = %q, %v`, v, err)
	}
	if v, err := s.Get(ctx, "second"); err != nil || v != "2" {
		t.Fatalf(`Get("second") = %q, %v`, v, err)
	}
	if names := s.Names(); fmt.Sprint(names) != "[first second]" {
		t.Fatalf("Names = %v", names)
	}
}

func TestUnknownNameIsAdapterNotFound(t *testing.T) {
	ctx := context.Background()
	s := NewSlot[string]("dlq")
	_, err := s.Get(ctx, "")
	if !errors.Is(err, baldur.ErrAdapterNotFound) || !strings.Contains(err.Error(), "dlq") {
		t.Fatalf(`Get("") on an empty slot: %v`, err)
	}
	s.Register("a", func(context.Context) (string, error) { return "x", nil })
	_, err = s.Get(ctx, "nope")
	if !errors.Is(err, baldur.ErrAdapterNotFound) || !strings.Contains(err.Error(), `dlq "nope"`) {
		t.Fatalf("Get(nope): %v; want ErrAdapterNotFound naming contract and name", err)
	}
}

func TestFailingFactoryIsNotCached(t *testing.T) {
	ctx := context.Background()
	s := NewSlot[string]("test")
	boom := errors.New("boom")
	var calls atomic.Int32
	s.Register("a", func(context.Context) (string, error) {
		if calls.Add(1) == 1 {
			return "ignored", boom
		}
		return "ok", nil
	})
	v, err := s.Get(ctx, "a")
	if !errors.Is(err, boom) || v != "" {
		t.Fatalf("first Get = %q, %v; want zero value and boom", v, err)
	}
	if !strings.Contains(err.Error(), `test "a"`) {
		t.Fatalf("error does not name contract and name: %v", err)
	}
	if v, err := s.Get(ctx, "a"); err != nil || v != "ok" {
		t.Fatalf("retry Get = %q, %v", v, err)
	}
	if v, err := s.Get(ctx, "a"); err != nil || v != "ok" || calls.Load() != 2 {
		t.Fatalf("third Get = %q, %v after %d calls; want the cached value after 2", v, err, calls.Load())
	}
}

func TestSafeGet(t *testing.T) {
	ctx := context.Background()
	s := NewSlot[*thing]("test")
	if v, err := s.SafeGet(ctx, ""); v != nil || err != nil {
		t.Fatalf(`SafeGet("") on an empty slot = %v, %v; want nil, nil`, v, err)
	}
	var calls atomic.Int32
	s.Register("a", counting(&calls))
	if v, err := s.SafeGet(ctx, "missing"); v != nil || err != nil {
		t.Fatalf("SafeGet(missing) = %v, %v; want nil, nil", v, err)
	}
	if v, err := s.SafeGet(ctx, "a"); err != nil || v == nil || v.id != 1 {
		t.Fatalf("SafeGet(a) = %v, %v", v, err)
	}
	boom := errors.New("boom")
	s.Register("failing", func(context.Context) (*thing, error) { return nil, boom })
	if _, err := s.SafeGet(ctx, "failing"); !errors.Is(err, boom) {
		t.Fatalf("SafeGet of a failing factory: %v; want its error", err)
	}
	// A factory failing because something it needs is not registered is a
	// failing factory, not a missing name.
	other := NewSlot[string]("other")
	s.Register("needs-other", func(ctx context.Context) (*thing, error) {
		if _, err := other.Get(ctx, "absent"); err != nil {
			return nil, err
		}
		return &thing{}, nil
	})
	if _, err := s.SafeGet(ctx, "needs-other"); !errors.Is(err, baldur.ErrAdapterNotFound) {
		t.Fatalf("SafeGet(needs-other) = %v; want the factory's ErrAdapterNotFound", err)
	}
}

func TestSelfResolvingFactoryIsCycle(t *testing.T) {
	ctx := context.Background()
	for _, inner := range []string{"a", ""} { // by name, and through the default
		t.Run(fmt.Sprintf("inner %q", inner), func(t *testing.T) {
			s := NewSlot[string]("governance")
			var innerErr error
			s.Register("a", func(ctx context.Context) (string, error) {
				_, innerErr = s.Get(ctx, inner)
				return "", innerErr
			})
			var err error
			noDeadlock(t, func() { _, err = s.Get(ctx, "a") })
			if !errors.Is(innerErr, ErrCycle) {
				t.Fatalf("inner Get: %v; want ErrCycle", innerErr)
			}
			if !errors.Is(err, ErrCycle) {
				t.Fatalf("outer Get: %v; want the factory's ErrCycle", err)
			}
			if want := `governance "a" -> governance "a"`; !strings.Contains(innerErr.Error(), want) {
				t.Fatalf("error %q does not show the chain %s", innerErr, want)
			}
			// Nothing is stuck: the slot still answers.
			if _, err := s.SafeGet(ctx, "b"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTwoSlotCycle(t *testing.T) {
	ctx := context.Background()
	a := NewSlot[string]("alpha")
	b := NewSlot[int]("beta")
	a.Register("x", func(ctx context.Context) (string, error) {
		n, err := b.Get(ctx, "y")
		return fmt.Sprint(n), err
	})
	b.Register("y", func(ctx context.Context) (int, error) {
		_, err := a.Get(ctx, "x")
		return 0, err
	})
	var err error
	noDeadlock(t, func() { _, err = a.Get(ctx, "x") })
	if !errors.Is(err, ErrCycle) {
		t.Fatalf("Get: %v; want ErrCycle", err)
	}
	if want := `alpha "x" -> beta "y" -> alpha "x"`; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not show the chain %s", err, want)
	}
	// Neither failed build was cached.
	if _, ok := a.instances["x"]; ok {
		t.Fatal("a failed build was cached")
	}
}

// TestCrossGoroutineCycle: two goroutines start the two halves of a cycle at
// once, each blocked on the other's build. The wait-for graph breaks it.
func TestCrossGoroutineCycle(t *testing.T) {
	a := NewSlot[string]("alpha")
	b := NewSlot[string]("beta")
	var aStarted, bStarted sync.WaitGroup
	aStarted.Add(1)
	bStarted.Add(1)
	a.Register("x", func(ctx context.Context) (string, error) {
		aStarted.Done()
		bStarted.Wait() // both builds are in progress before either asks
		return b.Get(ctx, "y")
	})
	b.Register("y", func(ctx context.Context) (string, error) {
		bStarted.Done()
		aStarted.Wait()
		return a.Get(ctx, "x")
	})
	var errA, errB error
	noDeadlock(t, func() {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _, errA = a.Get(context.Background(), "x") }()
		go func() { defer wg.Done(); _, errB = b.Get(context.Background(), "y") }()
		wg.Wait()
	})
	if !errors.Is(errA, ErrCycle) || !errors.Is(errB, ErrCycle) {
		t.Fatalf("errA = %v, errB = %v; want both to wrap ErrCycle", errA, errB)
	}
}

func TestDependenciesAreNotCycles(t *testing.T) {
	ctx := context.Background()
	s := NewSlot[string]("svc")
	var dCalls atomic.Int32
	s.Register("d", func(context.Context) (string, error) { dCalls.Add(1); return "d", nil })
	for _, name := range []string{"b", "c"} {
		s.Register(name, func(ctx context.Context) (string, error) {
			d, err := s.Get(ctx, "d")
			return name + d, err
		})
	}
	s.Register("a", func(ctx context.Context) (string, error) {
		b, err := s.Get(ctx, "b")
		if err != nil {
			return "", err
		}
		c, err := s.Get(ctx, "c")
		return b + c, err
	})
	if v, err := s.Get(ctx, "a"); err != nil || v != "bdcd" {
		t.Fatalf("diamond Get = %q, %v", v, err)
	}
	if dCalls.Load() != 1 {
		t.Fatalf("shared dependency built %d times", dCalls.Load())
	}
}

func TestClearInstancesKeepsRegistrations(t *testing.T) {
	ctx := context.Background()
	s := NewSlot[*thing]("test")
	var calls atomic.Int32
	s.Register("a", counting(&calls))
	s.Register("b", counting(&calls))
	first, _ := s.Get(ctx, "a")
	s.ClearInstances()
	if fmt.Sprint(s.Names()) != "[a b]" || s.Default() != "a" {
		t.Fatalf("ClearInstances lost registrations: %v, default %q", s.Names(), s.Default())
	}
	second, err := s.Get(ctx, "")
	if err != nil || second == first || calls.Load() != 2 {
		t.Fatalf("after ClearInstances Get = %v, %v (calls %d); want a new instance", second, err, calls.Load())
	}
}

func TestResetDropsEverything(t *testing.T) {
	ctx := context.Background()
	s := NewSlot[*thing]("test")
	var calls atomic.Int32
	s.Register("a", counting(&calls))
	if _, err := s.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	s.Reset()
	if len(s.Names()) != 0 || s.Default() != "" {
		t.Fatalf("after Reset: names %v, default %q", s.Names(), s.Default())
	}
	if _, err := s.Get(ctx, "a"); !errors.Is(err, baldur.ErrAdapterNotFound) {
		t.Fatalf("after Reset Get = %v; want ErrAdapterNotFound", err)
	}
	s.Register("b", counting(&calls))
	if s.Default() != "b" {
		t.Fatalf("first registration after Reset is not the default: %q", s.Default())
	}
}

// TestBuildStartedBeforeClearIsNotCached: an instance built by a factory
// that started before ClearInstances goes to its callers only.
func TestBuildStartedBeforeClearIsNotCached(t *testing.T) {
	ctx := context.Background()
	s := NewSlot[*thing]("test")
	var calls atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	s.Register("a", func(context.Context) (*thing, error) {
		if calls.Add(1) == 1 {
			close(entered)
			<-release
		}
		return &thing{id: int(calls.Load())}, nil
	})
	done := make(chan *thing)
	go func() { v, _ := s.Get(ctx, "a"); done <- v }()
	<-entered
	s.ClearInstances()
	close(release)
	old := <-done
	fresh, err := s.Get(ctx, "a")
	if err != nil || fresh == old || calls.Load() != 2 {
		t.Fatalf("Get after clear = %v (old %v), %v, calls %d; want a fresh build", fresh, old, err, calls.Load())
	}
}

func TestWaitEndsWithCallerContext(t *testing.T) {
	s := NewSlot[string]("test")
	entered, release := make(chan struct{}), make(chan struct{})
	s.Register("a", func(context.Context) (string, error) {
		close(entered)
		<-release
		return "v", nil
	})
	builder := make(chan error)
	go func() { _, err := s.Get(context.Background(), "a"); builder <- err }()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	waiter := make(chan error)
	go func() { _, err := s.Get(ctx, "a"); waiter <- err }()
	waitFor(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.building["a"] != nil && s.building["a"].waiters.Load() == 1
	})
	cancel()
	if err := <-waiter; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v; want context.Canceled", err)
	}
	close(release)
	if err := <-builder; err != nil {
		t.Fatalf("builder: %v", err)
	}
}

// TestWaiterRetriesWhenBuilderIsCancelled: the build fails only because its
// caller's context ended; a waiter whose context is alive builds again.
func TestWaiterRetriesWhenBuilderIsCancelled(t *testing.T) {
	s := NewSlot[string]("test")
	var calls atomic.Int32
	entered := make(chan struct{})
	s.Register("a", func(ctx context.Context) (string, error) {
		if calls.Add(1) == 1 {
			close(entered)
			<-ctx.Done()
			return "", ctx.Err()
		}
		return "v", nil
	})
	bctx, cancel := context.WithCancel(context.Background())
	builder := make(chan error)
	go func() { _, err := s.Get(bctx, "a"); builder <- err }()
	<-entered
	type result struct {
		v   string
		err error
	}
	waiter := make(chan result)
	go func() { v, err := s.Get(context.Background(), "a"); waiter <- result{v, err} }()
	waitFor(t, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.building["a"] != nil && s.building["a"].waiters.Load() == 1
	})
	cancel()
	if err := <-builder; !errors.Is(err, context.Canceled) {
		t.Fatalf("builder: %v; want context.Canceled", err)
	}
	if r := <-waiter; r.err != nil || r.v != "v" {
		t.Fatalf("waiter = %q, %v; want a fresh build", r.v, r.err)
	}
	if calls.Load() != 2 {
		t.Fatalf("factory ran %d times, want 2", calls.Load())
	}
}

func TestPanickingFactoryDoesNotWedgeTheSlot(t *testing.T) {
	ctx := context.Background()
	s := NewSlot[string]("test")
	var calls atomic.Int32
	s.Register("a", func(context.Context) (string, error) {
		if calls.Add(1) == 1 {
			panic("factory bug")
		}
		return "v", nil
	})
	func() {
		defer func() {
			if r := recover(); r != "factory bug" {
				t.Fatalf("recovered %v; want the factory's panic", r)
			}
		}()
		_, _ = s.Get(ctx, "a")
	}()
	var v string
	var err error
	noDeadlock(t, func() { v, err = s.Get(ctx, "a") })
	if err != nil || v != "v" {
		t.Fatalf("Get after a panic = %q, %v", v, err)
	}
}

func TestRegisterRejectsMisuse(t *testing.T) {
	s := NewSlot[string]("test")
	for name, f := range map[string]func(){
		"empty name":  func() { s.Register("", func(context.Context) (string, error) { return "", nil }) },
		"nil factory": func() { s.Register("a", nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}

// TestContextOutlivingItsBuild: a factory's context kept after the factory
// returned (by a goroutine it started, say) is no longer "in the build".
func TestContextOutlivingItsBuild(t *testing.T) {
	s := NewSlot[string]("test")
	var kept context.Context
	var calls atomic.Int32
	s.Register("a", func(ctx context.Context) (string, error) {
		if calls.Add(1) == 1 {
			kept = ctx
			return "", errors.New("first build fails")
		}
		return "v", nil
	})
	if _, err := s.Get(context.Background(), "a"); err == nil {
		t.Fatal("first build did not fail")
	}
	v, err := s.Get(kept, "a")
	if err != nil || v != "v" {
		t.Fatalf("Get with the finished build's context = %q, %v; want a new build", v, err)
	}
}

func BenchmarkSlotGetCached(b *testing.B) {
	ctx := context.Background()
	s := NewSlot[*thing]("bench")
	var calls atomic.Int32
	s.Register("a", counting(&calls))
	if _, err := s.Get(ctx, "a"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Get(ctx, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}
