package baldur_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/baldur-go/baldur"
)

// A backend's write path: validate the id, encode the record; its read
// path: decode, then compare versions by value.
func Example() {
	if err := baldur.ValidateID("rollout id", "team/rollout-1"); errors.Is(err, baldur.ErrInvalidArgument) {
		fmt.Println("rejected:", err)
	}

	b, _ := baldur.EncodeRecord(baldur.Record{"version": 3, "state": "canary", "ratio": 0.25})
	fmt.Println(string(b))

	rec, _ := baldur.DecodeRecord(b)
	fmt.Printf("%T %T\n", rec["version"], rec["ratio"])
	fmt.Println(baldur.VersionMatches(rec, 3), baldur.VersionOf(rec)+1)
	// Output:
	// rejected: baldur: invalid argument: rollout id "team/rollout-1" contains '/' at byte 4
	// {"ratio":0.25,"state":"canary","version":3}
	// int64 float64
	// true 4
}

func ExampleHeaderIdentityResolver() {
	ctx := context.Background()
	var r baldur.AdminIdentityResolver = baldur.HeaderIdentityResolver{}

	p, _ := r.Resolve(ctx, " alice ", true)
	fmt.Println(baldur.Actor(p))
	p, _ = r.Resolve(ctx, "alice", false) // not from a trusted proxy
	fmt.Println(baldur.Actor(p))
	p, _ = r.Resolve(ctx, "   ", true)
	fmt.Println(baldur.Actor(p))
	// Output:
	// alice
	// anonymous
	// anonymous
}

func ExampleNoOpGovernanceChecker() {
	ctx := context.Background()
	var g baldur.GovernanceChecker = baldur.NoOpGovernanceChecker{}
	res, _ := g.CheckAllGovernance(ctx, baldur.GovernanceCheck{OperationName: "rollout"})
	fmt.Printf("%v %q %v %v\n", res.Allowed, res.EmergencyLevel, res.ErrorBudgetPercent, res.ThresholdPercent)
	// Output:
	// true "UNKNOWN" 100 0
}
