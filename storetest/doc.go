// Package storetest is the conformance suite for the four domain state
// stores of package baldur. Every backend runs it unchanged; a backend is
// done when the suite passes. It checks each row of CONTRACT.md: not-found
// and invalid-argument errors (with errors.Is, and that a refused call wrote
// nothing, by reading afterwards), records handed out as copies, optimistic
// concurrency with versions compared by value, locks that are not
// re-entrant and expire, extension that resets rather than adds up, TTL
// expiry, history trimming, sorting, and atomicity under 16 concurrent
// callers.
//
// # Plugging a backend in
//
// A backend's test file is four one-line wrappers around a Factory that
// returns a fresh, empty, isolated store (a new key prefix on a shared
// server is enough) and registers its cleanup with t.Cleanup:
//
//	func TestCanary(t *testing.T)        { storetest.RunCanary(t, canaryEnv) }
//	func TestChaos(t *testing.T)         { storetest.RunChaos(t, chaosEnv) }
//	func TestConfigHistory(t *testing.T) { storetest.RunConfigHistory(t, historyEnv) }
//	func TestCrossCluster(t *testing.T)  { storetest.RunCrossCluster(t, crossEnv) }
//
// The factory is called once per case, from the case's goroutine. Each case
// is a subtest named as in CaseNames without the store prefix, so under
// TestCanary a case's t.Name() is "Test" + its CaseNames entry; a backend can
// record the names its factory saw and compare them with CaseNames to show it
// ran every case (memstore's TestConformance does).
//
// A store that implements the optional baldur.RequestUpdater extension also
// runs RunRequestUpdater (its cases are listed by RequestUpdaterCaseNames,
// not CaseNames, since the extension is optional): a factory returning an
// Env[RequestStore], the cross-cluster store with the extension.
//
// # Time
//
// Env.Advance is the suite's only way to let time pass. memstore advances a
// fake clock, so its run takes no wall time; a real backend sleeps
// (Advance: time.Sleep). The suite never depends on precision finer than a
// second: every TTL or lock timeout it waits out is at least 2 s, every check
// that something is still there happens at least 1 s before its deadline and
// every check that it is gone at least 1 s after, so a backend whose leases
// count whole seconds (etcd) passes unchanged. A deadline the suite must not
// reach is 30 s or more away; the longest case sleeps about 6 s.
//
// Cases call t.Parallel, so a real backend's sleeps overlap. go test runs at
// most GOMAXPROCS parallel subtests at once unless told otherwise; a backend
// that sleeps should run its suite with a larger -parallel (for example
// -parallel 64) or the sleeps add up. Each Run function returns only when its
// cases are done, so four top-level tests take about 4 x 6 s; to overlap all
// of them, call the four from parallel subtests of one test:
//
//	func TestConformance(t *testing.T) {
//		t.Run("Canary", func(t *testing.T) { t.Parallel(); storetest.RunCanary(t, canaryEnv) })
//		t.Run("Chaos", func(t *testing.T) { t.Parallel(); storetest.RunChaos(t, chaosEnv) })
//		...
//	}
//
// memstore with the wall clock and Advance: time.Sleep runs the whole suite
// in about 19 s as four top-level tests at -parallel 128.
//
// # Concurrency checks
//
// Concurrency cases release 16 goroutines at once and count outcomes: one
// winner among conditional saves with the same expected version or among
// lock acquirers, exactly 1..16 from NextVersion. The config-history case
// runs four writers against one reader and holds the reader only to what
// separate reads can honestly show: every entry read is one a writer saved,
// the history never exceeds maxEntries nor falls below what had completed,
// each writer's entries appear newest first and contiguous, and nothing read
// is older than something read before it (so a SaveVersion that writes
// current and history in two steps is caught whichever it writes first).
//
// # The suite can fail
//
// The package's own tests run the suite, in a subprocess, against memstore
// with one defect each (a SaveRollout that ignores expectedVersion, a
// NextVersion that reads and writes in two steps, a re-entrant lock, a clock
// that never moves, a SaveVersion in two steps, a store that accepts '/' in
// ids, one that hands out its cached records) and assert that exactly the
// expected cases fail, and that the same harness passes without a defect.
package storetest
