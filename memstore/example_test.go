package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/memstore"
)

// A rollout is saved unconditionally once, then updated with optimistic
// concurrency: the writer names the version it read and writes the next.
func Example_canary() {
	ctx := context.Background()
	canary := memstore.New().Canary()

	ok, _ := canary.SaveRollout(ctx, "r1", baldur.Record{"version": 1, "state": "running"}, time.Hour, nil)
	fmt.Println("created:", ok)

	rec, _ := canary.GetRollout(ctx, "r1")
	read := baldur.VersionOf(rec)
	ok, _ = canary.SaveRollout(ctx, "r1", baldur.Record{"version": read + 1, "state": "completed"}, time.Hour, &read)
	fmt.Println("first update:", ok)
	ok, _ = canary.SaveRollout(ctx, "r1", baldur.Record{"version": read + 1, "state": "failed"}, time.Hour, &read)
	fmt.Println("stale update:", ok)

	got, _ := canary.GetRollout(ctx, "r1")
	fmt.Println(got["state"], got["version"])
	// Output:
	// created: true
	// first update: true
	// stale update: false
	// completed 2
}

// One rollout at a time per config type: the lock is not re-entrant and
// only its owner releases it.
func Example_canaryLock() {
	ctx := context.Background()
	canary := memstore.New().Canary()

	a, _ := canary.AcquireConfigLock(ctx, "rate_limits", "r1", 10*time.Minute)
	b, _ := canary.AcquireConfigLock(ctx, "rate_limits", "r2", 10*time.Minute)
	owner, _ := canary.GetConfigLockOwner(ctx, "rate_limits")
	fmt.Println(a, b, owner)

	released, _ := canary.ReleaseConfigLock(ctx, "rate_limits", "r2")
	fmt.Println("r2 releases:", released)
	released, _ = canary.ReleaseConfigLock(ctx, "rate_limits", "r1")
	fmt.Println("r1 releases:", released)
	// Output:
	// true false r1
	// r2 releases: false
	// r1 releases: true
}

// Experiments expire with their TTL; a fake clock shows it without waiting.
func Example_chaos() {
	ctx := context.Background()
	clock := clockwork.NewFakeClock()
	chaos := memstore.New(memstore.WithClock(clock)).Chaos()

	_ = chaos.Save(ctx, "latency", baldur.Record{"status": "active"}, 2*time.Minute)
	_ = chaos.Save(ctx, "packet-loss", baldur.Record{"status": "active"}, time.Hour)
	_ = chaos.Save(ctx, "cpu", baldur.Record{"status": "completed"}, time.Hour)

	clock.Advance(5 * time.Minute)
	active, _ := chaos.FindActive(ctx)
	fmt.Println(len(active), "active")
	_, err := chaos.Get(ctx, "latency")
	fmt.Println(errors.Is(err, baldur.ErrNotFound))
	// Output:
	// 1 active
	// true
}

// The history keeps the newest entries; the head is the current version.
func Example_configHistory() {
	ctx := context.Background()
	hist := memstore.New().ConfigHistory()

	for range 4 {
		v, _ := hist.NextVersion(ctx, "rate_limits")
		_ = hist.SaveVersion(ctx, "rate_limits", baldur.Record{"version": v, "values": map[string]any{"limit": v * 10}}, 3)
	}
	cur, _ := hist.GetCurrent(ctx, "rate_limits")
	entries, _ := hist.GetHistory(ctx, "rate_limits", 0)
	n, _ := hist.GetVersionCount(ctx, "rate_limits")
	fmt.Println("current:", cur["version"], "kept:", n)
	for _, e := range entries {
		fmt.Print(e["version"], " ")
	}
	fmt.Println()
	// Output:
	// current: 4 kept: 3
	// 4 3 2
}

// A propagation request per target cluster, and that cluster's pending set.
func Example_crossCluster() {
	ctx := context.Background()
	cc := memstore.New().CrossCluster()

	for _, target := range []string{"us-east", "eu-west"} {
		id := "chg-42-" + target
		_ = cc.SaveRequest(ctx, id, baldur.Record{"request_id": id, "status": "pending_approval"}, 7*24*time.Hour)
		_ = cc.AddPending(ctx, target, id)
	}
	_ = cc.SavePolicy(ctx, "limits", baldur.Record{"policy_id": "limits", "config_type": "rate_limits"})

	pending, _ := cc.GetPendingIDs(ctx, "eu-west")
	req, _ := cc.GetRequest(ctx, pending[0])
	policies, _ := cc.ListPolicies(ctx)
	fmt.Println(pending, req["status"], len(policies))
	// Output:
	// [chg-42-eu-west] pending_approval 1
}

// Tests hand the store a fake clock and move it instead of sleeping.
func ExampleWithClock() {
	ctx := context.Background()
	clock := clockwork.NewFakeClock()
	canary := memstore.New(memstore.WithClock(clock)).Canary()

	_, _ = canary.AcquireConfigLock(ctx, "rate_limits", "r1", time.Minute)
	clock.Advance(2 * time.Minute)
	locked, _ := canary.IsConfigLocked(ctx, "rate_limits")
	taken, _ := canary.AcquireConfigLock(ctx, "rate_limits", "r2", time.Minute)
	fmt.Println(locked, taken)
	// Output:
	// false true
}
