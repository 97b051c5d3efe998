package storetest_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/memstore"
	"github.com/baldur-go/baldur/storetest"
)

// brokenEnv selects, in the subprocess, which deliberately broken backend
// TestBrokenBackend runs the suite against.
const brokenEnv = "STORETEST_BROKEN"

// TestSuiteCatchesBrokenBackends runs the whole suite against memstore with
// one defect built in, in a subprocess (this test binary again, running only
// TestBrokenBackend), and asserts that the run fails and that exactly the
// cases named fail. "none" is the control: the same harness, no defect, no
// failure.
func TestSuiteCatchesBrokenBackends(t *testing.T) {
	for _, tc := range []struct {
		broken   string
		mustFail []string
	}{
		{"none", nil},
		{"cas-ignored", []string{
			"Canary/SaveRollout_ExpectedVersionMismatchWritesNothing",
			"Canary/SaveRollout_ExpectedVersionOnAbsentIsFalse",
			"Canary/SaveRollout_ExpectedVersionOnExpiredIsFalse",
			"Canary/SaveRollout_MissingVersionCountsAsZero",
			"Canary/SaveRollout_NullVersionCountsAsZero",
			"Canary/SaveRollout_VersionComparedByValue",
			"Canary/SaveRollout_NonIntegerVersionMatchesNothing",
			"Canary/SaveRollout_ConcurrentSameVersionOneWins",
		}},
		{"nextversion-not-atomic", []string{
			"ConfigHistory/NextVersion_ConcurrentGetsOneToN",
		}},
		{"lock-reentrant", []string{
			"Canary/Lock_NotReentrant",
		}},
		{"no-expiry", []string{
			"Canary/SaveRollout_UnconditionalResetsTTL",
			"Canary/SaveRollout_Expires",
			"Canary/SaveRollout_ExpectedVersionOnExpiredIsFalse",
			"Canary/SaveRollout_ExpectedVersionResetsTTL",
			"Canary/Active_NotPrunedOnExpiry",
			"Canary/FindCompleted_SkipsExpired",
			"Canary/Lock_Expires",
			"Canary/Lock_ExpiredCanBeTakenByAnyone",
			"Canary/Lock_ReleaseExpiredIsFalse",
			"Canary/Lock_ForceReleaseExpiredIsFalse",
			"Canary/Lock_ExtendResetsNeverAddsUp",
			"Canary/Lock_ExtendProlongs",
			"Canary/Lock_ExtendMayShorten",
			"Canary/Lock_ExtendByNonOwnerIsFalse",
			"Canary/Lock_ExtendExpiredIsFalse",
			"Canary/Lock_TypesIndependent",
			"Canary/Lock_NegativeExtensionChangesNothing",
			"Chaos/Save_ResetsTTL",
			"Chaos/Save_Expires",
			"Chaos/FindActive_SkipsExpired",
			"CrossCluster/SaveRequest_ResetsTTL",
			"CrossCluster/SaveRequest_Expires",
			"CrossCluster/Pending_NoTTL",
		}},
		{"history-not-atomic", []string{
			"ConfigHistory/SaveVersion_ConcurrentWritersConsistent",
		}},
		{"chaos-accepts-slash", []string{
			"Chaos/InvalidIDWritesNothing",
		}},
		{"chaos-shares-records", []string{
			"Chaos/Get_ReturnsCopy",
			"Chaos/Save_Expires",   // the cache also outlives the TTL
			"Chaos/Save_ResetsTTL", // likewise
		}},
	} {
		t.Run(tc.broken, func(t *testing.T) {
			t.Parallel()
			failed, passed, err := runBroken(t, tc.broken)
			t.Logf("%s: %d cases failed: %v", tc.broken, len(failed), failed)
			if len(tc.mustFail) == 0 {
				require.NoError(t, err, "the control run must pass")
			} else {
				var exit *exec.ExitError
				require.ErrorAs(t, err, &exit, "the suite must fail against a %s backend", tc.broken)
				require.NotZero(t, exit.ExitCode())
			}
			slices.Sort(tc.mustFail)
			require.Equal(t, tc.mustFail, failed, "the cases that catch %s", tc.broken)
			require.Len(t, passed, len(storetest.CaseNames())-len(failed), "every other case ran and passed")
		})
	}
}

var resultLine = regexp.MustCompile(`--- (PASS|FAIL): TestBrokenBackend/(\S+) \(`)

// runBroken runs TestBrokenBackend in a subprocess and returns the suite
// cases that failed and passed, sorted.
func runBroken(t *testing.T, broken string) (failed, passed []string, err error) {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBrokenBackend$", "-test.v", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), brokenEnv+"="+broken)
	out, err := cmd.CombinedOutput()
	cases := storetest.CaseNames()
	for _, m := range resultLine.FindAllStringSubmatch(string(out), -1) {
		if !slices.Contains(cases, m[2]) {
			continue // a group such as TestBrokenBackend/Canary
		}
		if m[1] == "FAIL" {
			failed = append(failed, m[2])
		} else {
			passed = append(passed, m[2])
		}
	}
	slices.Sort(failed)
	slices.Sort(passed)
	if len(failed)+len(passed) == 0 {
		t.Logf("subprocess output:\n%s", out)
	}
	return failed, passed, err
}

// TestBrokenBackend is the subprocess side of
// TestSuiteCatchesBrokenBackends; run on its own it does nothing.
func TestBrokenBackend(t *testing.T) {
	broken := os.Getenv(brokenEnv)
	if broken == "" {
		t.Skip("runs only as the subprocess of TestSuiteCatchesBrokenBackends")
	}
	t.Run("Canary", func(t *testing.T) {
		storetest.RunCanary(t, func(t *testing.T) storetest.Env[baldur.CanaryRolloutStore] {
			s, advance := newStore(broken)
			var c baldur.CanaryRolloutStore = s.Canary()
			switch broken {
			case "cas-ignored":
				c = casIgnored{c}
			case "lock-reentrant":
				c = reentrant{c}
			}
			return storetest.Env[baldur.CanaryRolloutStore]{Store: c, Advance: advance}
		})
	})
	t.Run("Chaos", func(t *testing.T) {
		storetest.RunChaos(t, func(t *testing.T) storetest.Env[baldur.ChaosExperimentStore] {
			s, advance := newStore(broken)
			var c baldur.ChaosExperimentStore = s.Chaos()
			switch broken {
			case "chaos-accepts-slash":
				c = slashTolerant{c}
			case "chaos-shares-records":
				c = &sharedRecords{ChaosExperimentStore: c, cache: map[string]baldur.Record{}}
			}
			return storetest.Env[baldur.ChaosExperimentStore]{Store: c, Advance: advance}
		})
	})
	t.Run("ConfigHistory", func(t *testing.T) {
		storetest.RunConfigHistory(t, func(t *testing.T) storetest.Env[baldur.ConfigHistoryStore] {
			s, advance := newStore(broken)
			var h baldur.ConfigHistoryStore = s.ConfigHistory()
			switch broken {
			case "nextversion-not-atomic":
				h = &racyCounter{ConfigHistoryStore: h, n: map[string]int64{}}
			case "history-not-atomic":
				h = &splitHistory{ConfigHistoryStore: h, current: map[string][]byte{}}
			}
			return storetest.Env[baldur.ConfigHistoryStore]{Store: h, Advance: advance}
		})
	})
	t.Run("CrossCluster", func(t *testing.T) {
		storetest.RunCrossCluster(t, func(t *testing.T) storetest.Env[baldur.CrossClusterStore] {
			s, advance := newStore(broken)
			return storetest.Env[baldur.CrossClusterStore]{Store: s.CrossCluster(), Advance: advance}
		})
	})
}

// newStore returns a memstore on a fake clock, and the Advance hook; with
// "no-expiry" the hook lets no time pass, as if records never expired.
func newStore(broken string) (*memstore.Store, func(time.Duration)) {
	clock := clockwork.NewFakeClock()
	if broken == "no-expiry" {
		return memstore.New(memstore.WithClock(clock)), func(time.Duration) {}
	}
	return memstore.New(memstore.WithClock(clock)), clock.Advance
}

// casIgnored saves unconditionally whatever expectedVersion says.
type casIgnored struct{ baldur.CanaryRolloutStore }

func (c casIgnored) SaveRollout(ctx context.Context, id string, data baldur.Record, ttl time.Duration, _ *int64) (bool, error) {
	return c.CanaryRolloutStore.SaveRollout(ctx, id, data, ttl, nil)
}

// reentrant lets the owner acquire its own lock again.
type reentrant struct{ baldur.CanaryRolloutStore }

func (r reentrant) AcquireConfigLock(ctx context.Context, configType, rolloutID string, timeout time.Duration) (bool, error) {
	if owner, err := r.GetConfigLockOwner(ctx, configType); err == nil && owner == rolloutID {
		return r.ExtendConfigLock(ctx, configType, rolloutID, timeout)
	}
	return r.CanaryRolloutStore.AcquireConfigLock(ctx, configType, rolloutID, timeout)
}

// racyCounter reads the counter and writes it back in two steps, each
// race-free on its own: a lost update, not a data race.
type racyCounter struct {
	baldur.ConfigHistoryStore
	mu sync.Mutex
	n  map[string]int64
}

func (r *racyCounter) NextVersion(ctx context.Context, configType string) (int64, error) {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r.mu.Lock()
	v := r.n[configType]
	r.mu.Unlock()
	time.Sleep(time.Millisecond)
	r.mu.Lock()
	r.n[configType] = v + 1
	r.mu.Unlock()
	return v + 1, nil
}

func (r *racyCounter) Clear(ctx context.Context, configType string) error {
	if err := r.ConfigHistoryStore.Clear(ctx, configType); err != nil {
		return err
	}
	r.mu.Lock()
	delete(r.n, configType)
	r.mu.Unlock()
	return nil
}

// splitHistory keeps the current version apart from the history and
// SaveVersion writes them in two steps: current first, then the history.
type splitHistory struct {
	baldur.ConfigHistoryStore
	mu      sync.Mutex
	current map[string][]byte
}

func (s *splitHistory) SaveVersion(ctx context.Context, configType string, data baldur.Record, maxEntries int) error {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return err
	}
	b, err := baldur.EncodeRecord(data)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.current[configType] = b
	s.mu.Unlock()
	time.Sleep(time.Millisecond)
	return s.ConfigHistoryStore.SaveVersion(ctx, configType, data, maxEntries)
}

func (s *splitHistory) GetCurrent(ctx context.Context, configType string) (baldur.Record, error) {
	if err := baldur.ValidateID("config type", configType); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	b, ok := s.current[configType]
	s.mu.Unlock()
	if !ok {
		return nil, baldur.ErrNotFound
	}
	return baldur.DecodeRecord(b)
}

func (s *splitHistory) Clear(ctx context.Context, configType string) error {
	if err := s.ConfigHistoryStore.Clear(ctx, configType); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.current, configType)
	s.mu.Unlock()
	return nil
}

// slashTolerant quietly turns '/' in experiment ids into '_' instead of
// refusing them.
type slashTolerant struct{ baldur.ChaosExperimentStore }

func (s slashTolerant) Save(ctx context.Context, id string, data baldur.Record, ttl time.Duration) error {
	return s.ChaosExperimentStore.Save(ctx, strings.ReplaceAll(id, "/", "_"), data, ttl)
}

func (s slashTolerant) Get(ctx context.Context, id string) (baldur.Record, error) {
	return s.ChaosExperimentStore.Get(ctx, strings.ReplaceAll(id, "/", "_"))
}

func (s slashTolerant) Delete(ctx context.Context, id string) error {
	return s.ChaosExperimentStore.Delete(ctx, strings.ReplaceAll(id, "/", "_"))
}

// sharedRecords caches what Get returned and hands the same map out again,
// so a caller's mutation shows up in the next read.
type sharedRecords struct {
	baldur.ChaosExperimentStore
	mu    sync.Mutex
	cache map[string]baldur.Record
}

func (s *sharedRecords) Save(ctx context.Context, id string, data baldur.Record, ttl time.Duration) error {
	s.mu.Lock()
	delete(s.cache, id)
	s.mu.Unlock()
	return s.ChaosExperimentStore.Save(ctx, id, data, ttl)
}

func (s *sharedRecords) Get(ctx context.Context, id string) (baldur.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.cache[id]; ok {
		return r, nil
	}
	r, err := s.ChaosExperimentStore.Get(ctx, id)
	if err == nil {
		s.cache[id] = r
	}
	return r, err
}

func (s *sharedRecords) Delete(ctx context.Context, id string) error {
	s.mu.Lock()
	delete(s.cache, id)
	s.mu.Unlock()
	return s.ChaosExperimentStore.Delete(ctx, id)
}
