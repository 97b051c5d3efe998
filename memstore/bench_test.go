package memstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/memstore"
)

func rollout(i int) baldur.Record {
	return baldur.Record{"version": i, "state": "running", "config_type": "rate_limits",
		"stages": []any{map[string]any{"percent": 5}, map[string]any{"percent": 50}}}
}

func BenchmarkSaveRollout(b *testing.B) {
	c := memstore.New().Canary()
	ctx := b.Context()
	for i := 0; b.Loop(); i++ {
		if _, err := c.SaveRollout(ctx, fmt.Sprintf("r%d", i%1000), rollout(i), time.Hour, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetRollout(b *testing.B) {
	c := memstore.New().Canary()
	ctx := b.Context()
	if _, err := c.SaveRollout(ctx, "r", rollout(1), time.Hour, nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.GetRollout(ctx, "r"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveRolloutCASParallel: every goroutine updates its own rollout
// with optimistic concurrency; they contend on the store's one mutex.
func BenchmarkSaveRolloutCASParallel(b *testing.B) {
	c := memstore.New().Canary()
	ctx := b.Context()
	var goroutines atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		id := fmt.Sprintf("r%d", goroutines.Add(1))
		if _, err := c.SaveRollout(ctx, id, rollout(0), time.Hour, nil); err != nil {
			b.Error(err)
			return
		}
		for v := int64(0); pb.Next(); v++ {
			ok, err := c.SaveRollout(ctx, id, rollout(int(v+1)), time.Hour, &v)
			if err != nil || !ok {
				b.Errorf("save %d: %v %v", v, ok, err)
				return
			}
		}
	})
}

func BenchmarkFindCompleted1000(b *testing.B) {
	c := memstore.New().Canary()
	ctx := b.Context()
	for i := range 1000 {
		if _, err := c.SaveRollout(ctx, fmt.Sprintf("r%04d", i), rollout(i), time.Hour, nil); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		rs, err := c.FindCompleted(ctx, "r00*")
		if err != nil || len(rs) != 100 {
			b.Fatal(len(rs), err)
		}
	}
}

func BenchmarkSaveVersion(b *testing.B) {
	h := memstore.New().ConfigHistory()
	ctx := b.Context()
	for i := 0; b.Loop(); i++ {
		if err := h.SaveVersion(ctx, "rate_limits", rollout(i), 50); err != nil {
			b.Fatal(err)
		}
	}
}
