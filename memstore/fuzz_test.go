package memstore_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/memstore"
)

// model is the obvious reference for rollouts and locks: maps with
// deadlines, expiry checked on every look.
type model struct {
	now      time.Time
	rollouts map[string]modelEntry
	locks    map[string]modelEntry
}

type modelEntry struct {
	value    int64 // the rollout's version, or unused for locks
	owner    string
	deadline time.Time
}

func (m *model) live(e modelEntry, ok bool) bool { return ok && m.now.Before(e.deadline) }

// FuzzCanaryAgainstModel drives the canary store and the model with the
// same operations, four bytes each, and compares every answer. It checks the
// deadline heap and the purge against a store with no such machinery.
func FuzzCanaryAgainstModel(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 2, 0, 0, 0, 3, 0, 0, 7, 2, 0, 0, 0})
	f.Add([]byte{4, 0, 1, 1, 4, 0, 2, 1, 7, 0, 1, 3, 3, 0, 0, 5, 8, 0, 0, 0, 5, 0, 1, 0})
	f.Add([]byte{0, 1, 2, 0, 1, 1, 0, 2, 1, 1, 1, 2, 9, 0, 0, 0, 3, 0, 0, 6, 9, 0, 0, 0, 6, 2, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		ctx := t.Context()
		clock := clockwork.NewFakeClock()
		c := memstore.New(memstore.WithClock(clock)).Canary()
		m := &model{now: clock.Now(), rollouts: map[string]modelEntry{}, locks: map[string]modelEntry{}}
		for len(ops) >= 4 {
			op, a, b, d := ops[0]%10, ops[1], ops[2], ops[3]
			ops = ops[4:]
			id := fmt.Sprintf("r%d", a%3)
			ttl := time.Duration(1+b%5) * time.Second
			ver := int64(b % 3)
			owner := fmt.Sprintf("o%d", d%2)
			step := fmt.Sprintf("op %d(%q, b=%d, d=%d)", op, id, b, d)
			switch op {
			case 0: // unconditional save
				ok, err := c.SaveRollout(ctx, id, baldur.Record{"version": ver}, ttl, nil)
				require.NoError(t, err, step)
				require.True(t, ok, step)
				m.rollouts[id] = modelEntry{value: ver, deadline: m.now.Add(ttl)}
			case 1: // conditional save
				exp := int64(d % 3)
				ok, err := c.SaveRollout(ctx, id, baldur.Record{"version": ver}, ttl, &exp)
				require.NoError(t, err, step)
				e, present := m.rollouts[id]
				want := m.live(e, present) && e.value == exp
				require.Equal(t, want, ok, step)
				if want {
					m.rollouts[id] = modelEntry{value: ver, deadline: m.now.Add(ttl)}
				}
			case 2: // get
				r, err := c.GetRollout(ctx, id)
				e, present := m.rollouts[id]
				if m.live(e, present) {
					require.NoError(t, err, step)
					require.Equal(t, e.value, r["version"], step)
				} else {
					require.True(t, errors.Is(err, baldur.ErrNotFound), "%s: %v", step, err)
				}
			case 3: // time passes
				d := time.Duration(d%8) * 500 * time.Millisecond
				clock.Advance(d)
				m.now = m.now.Add(d)
			case 4: // acquire
				ok, err := c.AcquireConfigLock(ctx, id, owner, ttl)
				require.NoError(t, err, step)
				e, held := m.locks[id]
				require.Equal(t, !m.live(e, held), ok, step)
				if ok {
					m.locks[id] = modelEntry{owner: owner, deadline: m.now.Add(ttl)}
				}
			case 5: // release
				ok, err := c.ReleaseConfigLock(ctx, id, owner)
				require.NoError(t, err, step)
				e, held := m.locks[id]
				want := m.live(e, held) && e.owner == owner
				require.Equal(t, want, ok, step)
				if want {
					delete(m.locks, id)
				}
			case 6: // force release
				ok, err := c.ForceReleaseConfigLock(ctx, id)
				require.NoError(t, err, step)
				e, held := m.locks[id]
				require.Equal(t, m.live(e, held), ok, step)
				delete(m.locks, id)
			case 7: // extend
				ok, err := c.ExtendConfigLock(ctx, id, owner, ttl)
				require.NoError(t, err, step)
				e, held := m.locks[id]
				want := m.live(e, held) && e.owner == owner
				require.Equal(t, want, ok, step)
				if want {
					m.locks[id] = modelEntry{owner: owner, deadline: m.now.Add(ttl)}
				}
			case 8: // owner
				got, err := c.GetConfigLockOwner(ctx, id)
				require.NoError(t, err, step)
				e, held := m.locks[id]
				want := ""
				if m.live(e, held) {
					want = e.owner
				}
				require.Equal(t, want, got, step)
			case 9: // find all
				rs, err := c.FindCompleted(ctx, "*")
				require.NoError(t, err, step)
				var got, want []int64
				for _, r := range rs {
					got = append(got, baldur.VersionOf(r))
				}
				keys := make([]string, 0, len(m.rollouts))
				for k, e := range m.rollouts {
					if m.live(e, true) {
						keys = append(keys, k)
					}
				}
				slices.Sort(keys)
				for _, k := range keys {
					want = append(want, m.rollouts[k].value)
				}
				require.Equal(t, want, got, step)
			}
		}
	})
}
