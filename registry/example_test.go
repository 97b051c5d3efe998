package registry_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/config"
	"github.com/baldur-go/baldur/registry"
)

func Example() {
	ctx := context.Background()
	reg := registry.New()

	// Governance works out of the box: the no-op checker allows everything.
	gov, _ := reg.Governance.Get(ctx, "")
	res, _ := gov.CheckAllGovernance(ctx, baldur.GovernanceCheck{OperationName: "rollout"})
	fmt.Println("allowed:", res.Allowed)

	// Register a config provider; the first registration is the default.
	reg.Config.Register("dict", func(context.Context) (config.ConfigProvider, error) {
		return config.NewDict(map[string]any{"BALDUR": map[string]any{"SLA": map[string]any{"DEFAULT_HOURS": 24}}}), nil
	})
	cfg, _ := reg.Config.Get(ctx, "")
	fmt.Println("hours:", cfg.GetInt("BALDUR.SLA.DEFAULT_HOURS", 8))

	// An optional contract: SafeGet gives nil when nothing is registered.
	resolver, err := reg.AdminIdentity.SafeGet(ctx, "")
	fmt.Println("resolver:", resolver, err)

	_, err = reg.DLQ.Get(ctx, "")
	fmt.Println("dlq missing:", errors.Is(err, baldur.ErrAdapterNotFound))
	// Output:
	// allowed: true
	// hours: 24
	// resolver: <nil> <nil>
	// dlq missing: true
}

func ExampleSlot_Get_cycle() {
	ctx := context.Background()
	s := registry.NewSlot[string]("svc")
	s.Register("a", func(ctx context.Context) (string, error) {
		// A factory that needs itself: Get reports the cycle instead of
		// waiting forever. The factory passes its ctx on, which is what
		// lets Get see the chain.
		return s.Get(ctx, "a")
	})
	_, err := s.Get(ctx, "a")
	fmt.Println(errors.Is(err, registry.ErrCycle))
	fmt.Println(err)
	// Output:
	// true
	// registry: svc "a": registry: factory resolves its own slot: svc "a" -> svc "a"
}
