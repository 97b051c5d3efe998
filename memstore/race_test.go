package memstore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/memstore"
)

// TestConcurrentMixedUse hammers the same few ids with every kind of call
// from several goroutines while the clock moves, so that go test -race sees
// reads, writes, expiry and purging interleave. It asserts only that no call
// fails; the conformance suite asserts the outcomes.
func TestConcurrentMixedUse(t *testing.T) {
	ctx := t.Context()
	clock := clockwork.NewFakeClock()
	s := memstore.New(memstore.WithClock(clock))
	c, ch, h, cc := s.Canary(), s.Chaos(), s.ConfigHistory(), s.CrossCluster()
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 120 {
				id := fmt.Sprintf("id%d", i%3)
				rec := baldur.Record{"version": i, "status": "active", "g": g}
				ttl := time.Duration(1+i%4) * time.Second
				_, err := c.SaveRollout(ctx, id, rec, ttl, nil)
				assert.NoError(t, err)
				v := int64(i - 1)
				_, err = c.SaveRollout(ctx, id, rec, ttl, &v)
				assert.NoError(t, err)
				_, _ = c.GetRollout(ctx, id)
				_, err = c.FindCompleted(ctx, "*")
				assert.NoError(t, err)
				assert.NoError(t, c.AddActive(ctx, id))
				assert.NoError(t, c.RemoveActive(ctx, id))
				_, err = c.AcquireConfigLock(ctx, id, fmt.Sprint(g), ttl)
				assert.NoError(t, err)
				_, err = c.ExtendConfigLock(ctx, id, fmt.Sprint(g), ttl)
				assert.NoError(t, err)
				_, err = c.ReleaseConfigLock(ctx, id, fmt.Sprint(g))
				assert.NoError(t, err)
				assert.NoError(t, ch.Save(ctx, id, rec, ttl))
				_, _ = ch.Get(ctx, id)
				_, err = ch.FindActive(ctx)
				assert.NoError(t, err)
				if i%5 == 0 {
					assert.NoError(t, ch.Delete(ctx, id))
				}
				_, err = h.NextVersion(ctx, id)
				assert.NoError(t, err)
				assert.NoError(t, h.SaveVersion(ctx, id, rec, 5))
				_, _ = h.GetCurrent(ctx, id)
				_, err = h.GetHistory(ctx, id, 0)
				assert.NoError(t, err)
				if i%50 == 0 {
					assert.NoError(t, h.Clear(ctx, id))
				}
				assert.NoError(t, cc.SaveRequest(ctx, id, rec, ttl))
				_, _ = cc.GetRequest(ctx, id)
				assert.NoError(t, cc.AddPending(ctx, "c", id))
				assert.NoError(t, cc.RemovePending(ctx, "c", id))
				assert.NoError(t, cc.SavePolicy(ctx, id, rec))
				_, _ = cc.GetPolicy(ctx, id)
				_, err = cc.ListPolicies(ctx)
				assert.NoError(t, err)
				if g == 0 {
					clock.Advance(700 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
}
