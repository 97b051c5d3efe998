package integration

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/etcdstore"
	"github.com/baldur-go/baldur/internal/etcdtest"
)

const (
	etcdWriters  = 8
	etcdRollouts = 3
	etcdOpBound  = 3 * time.Second  // every store call; an election takes ~1-2 s
	etcdTTL      = 10 * time.Minute // never reached during the test
)

// etcdOp is one store call of a writer, as porcupine sees it.
type etcdOp struct {
	writer  int
	rollout int
	save    bool  // SaveRollout; else GetRollout
	version int64 // get: the version read; save: the expected version
	ok      bool  // save: the returned bool
	unknown bool  // save: returned an error, so it may or may not have applied
	call    int64 // ns since the test's start
	ret     int64
}

// TestEtcdLeaderStopDuringSaves runs 8 writers doing read-then-save loops
// (GetRollout, then SaveRollout expecting the version read and writing the
// next one) on 3 shared rollouts of a 3-member cluster, hard-stops the
// leader in the middle, and checks afterwards:
//
//   - no two saves with the same expected version on one rollout returned
//     true;
//   - every save that returned true is reflected: the final version lies
//     between the number of true saves and that plus the number of saves
//     whose outcome is unknown (they returned an error during the election),
//     and every version below it was written by a true or an unknown save;
//   - the history of reads and saves is linearizable (porcupine), with each
//     unknown save free to have happened at any time after its call, or not
//     at all;
//   - a new leader is elected, saves succeed after it, every writer's store
//     answers again, and the restarted old leader reads the final versions.
func TestEtcdLeaderStopDuringSaves(t *testing.T) {
	c := etcdtest.NewCluster(t, 3)
	prefix := etcdtest.Prefix(t)
	ctx := t.Context()

	// One Store and one client per writer, as if each were its own process.
	stores := make([]*etcdstore.Store, etcdWriters)
	for i := range stores {
		stores[i] = openStore(t, c.NewClient(t), prefix)
	}
	ids := make([]string, etcdRollouts)
	for r := range ids {
		ids[r] = fmt.Sprintf("rollout-%d", r)
		ok, err := stores[0].Canary().SaveRollout(ctx, ids[r], baldur.Record{"id": ids[r], "version": 0}, etcdTTL, nil)
		if err != nil || !ok {
			t.Fatalf("seed %s: %v %v", ids[r], ok, err)
		}
	}

	start := time.Now()
	since := func() int64 { return int64(time.Since(start)) }
	var (
		mu   sync.Mutex
		hist []etcdOp
	)
	record := func(op etcdOp) {
		mu.Lock()
		hist = append(hist, op)
		mu.Unlock()
	}

	var stopped atomic.Int64 // ns since start when the leader was stopped; 0 before
	runCtx, stopWriters := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range etcdWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			canary := stores[w].Canary()
			for n := 0; runCtx.Err() == nil; n++ {
				r := (w + n) % etcdRollouts
				opCtx, cancel := context.WithTimeout(runCtx, etcdOpBound)
				call := since()
				rec, err := canary.GetRollout(opCtx, ids[r])
				ret := since()
				if err != nil {
					cancel()
					// A failed read changes nothing; back off a little while
					// the cluster elects a leader.
					time.Sleep(20 * time.Millisecond)
					continue
				}
				v := baldur.VersionOf(rec)
				record(etcdOp{writer: w, rollout: r, version: v, call: call, ret: ret})

				next := baldur.Record{"id": ids[r], "version": v + 1, "writer": w, "n": n}
				call = since()
				ok, err := canary.SaveRollout(opCtx, ids[r], next, etcdTTL, &v)
				ret = since()
				cancel()
				if err != nil && runCtx.Err() != nil && errors.Is(err, context.Canceled) {
					// Cancelled by the end of the run: outcome unknown too.
					record(etcdOp{writer: w, rollout: r, save: true, version: v, unknown: true, call: call, ret: math.MaxInt64})
					return
				}
				record(etcdOp{writer: w, rollout: r, save: true, version: v, ok: ok, unknown: err != nil, call: call, ret: ret})
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}

	// Let the writers run, stop the leader, wait for a new one, let them run
	// on the new leader, then stop them.
	time.Sleep(1500 * time.Millisecond)
	old, err := c.WaitLeader(ctx)
	if err != nil {
		stopWriters()
		wg.Wait()
		t.Fatal(err)
	}
	stopped.Store(since())
	c.Stop(old)
	electCtx, cancelElect := context.WithTimeout(ctx, 30*time.Second)
	leader, err := c.WaitLeader(electCtx)
	cancelElect()
	elected := since()
	if err == nil {
		time.Sleep(2 * time.Second)
	}
	stopWriters()
	wg.Wait()
	if err != nil {
		t.Fatalf("no new leader after stopping member %d: %v", old, err)
	}
	if leader == old {
		t.Fatalf("stopped member %d still reported as leader", old)
	}
	t.Logf("stopped leader m%d at %v, m%d elected at %v", old,
		time.Duration(stopped.Load()), leader, time.Duration(elected))

	// Unknown outcomes may take effect at any time after their call.
	for i := range hist {
		if hist[i].unknown {
			hist[i].ret = math.MaxInt64
		}
	}

	// The final state, read through a store that was not writing.
	final := make([]int64, etcdRollouts)
	reader := openStore(t, c.Client(), prefix).Canary()
	for r := range ids {
		rec, err := reader.GetRollout(ctx, ids[r])
		if err != nil {
			t.Fatalf("final read of %s: %v", ids[r], err)
		}
		final[r] = baldur.VersionOf(rec)
	}

	var totalOK, totalUnknown, okAfterElection int
	for r := range ids {
		okBy := map[int64]int{}
		unknownBy := map[int64]int{}
		for _, op := range hist {
			if op.rollout != r || !op.save {
				continue
			}
			switch {
			case op.unknown:
				unknownBy[op.version]++
				totalUnknown++
			case op.ok:
				okBy[op.version]++
				totalOK++
				if op.call > elected {
					okAfterElection++
				}
			}
		}
		succ, unk := 0, 0
		for v, n := range okBy {
			if n > 1 {
				t.Errorf("%s: %d saves expecting version %d returned true", ids[r], n, v)
			}
			succ += n
		}
		for _, n := range unknownBy {
			unk += n
		}
		if final[r] < int64(succ) || final[r] > int64(succ+unk) {
			t.Errorf("%s: final version %d, want between %d true saves and %d (+%d unknown)",
				ids[r], final[r], succ, succ+unk, unk)
		}
		for v := range final[r] {
			if okBy[v] == 0 && unknownBy[v] == 0 {
				t.Errorf("%s: version %d was written but no save expected %d", ids[r], v+1, v)
			}
		}
		for v := range okBy {
			if v >= final[r] {
				t.Errorf("%s: a save expecting %d returned true, but the final version is %d (lost)", ids[r], v, final[r])
			}
		}
		t.Logf("%s: final version %d, %d true saves, %d unknown", ids[r], final[r], succ, unk)
	}
	if totalOK == 0 {
		t.Fatal("no save succeeded at all")
	}
	if okAfterElection == 0 {
		t.Error("no save succeeded after the new leader was elected")
	}
	t.Logf("%d operations, %d true saves (%d after the election), %d unknown outcomes",
		len(hist), totalOK, okAfterElection, totalUnknown)

	switch res := etcdLinearizable(hist); res {
	case porcupine.Ok:
	case porcupine.Unknown:
		t.Logf("porcupine: no verdict within %v on %d operations; the counting checks above still hold", etcdCheckBound, len(hist))
	default:
		t.Errorf("porcupine: the history of %d operations is not linearizable", len(hist))
	}

	// Every writer's store answers again.
	for w, s := range stores {
		opCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		rec, err := s.Canary().GetRollout(opCtx, ids[w%etcdRollouts])
		if err == nil {
			v := baldur.VersionOf(rec)
			var ok bool
			ok, err = s.Canary().SaveRollout(opCtx, fmt.Sprintf("after-%d", w), baldur.Record{"version": v}, etcdTTL, nil)
			if err == nil && !ok {
				err = errors.New("unconditional save returned false")
			}
		}
		cancel()
		if err != nil {
			t.Errorf("writer %d's store after the election: %v", w, err)
		}
	}

	// The old leader comes back on its data and catches up.
	c.Restart(old)
	for r := range ids {
		opCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := c.Members[old].Client.Get(opCtx, stores[0].Keys().Rollout(ids[r]))
		cancel()
		if err != nil {
			t.Fatalf("read %s through the restarted member: %v", ids[r], err)
		}
		if len(resp.Kvs) != 1 {
			t.Fatalf("restarted member has no %s", ids[r])
		}
		rec, err := baldur.DecodeRecord(resp.Kvs[0].Value)
		if err != nil {
			t.Fatal(err)
		}
		if got := baldur.VersionOf(rec); got != final[r] {
			t.Errorf("restarted member reads %s at version %d, want %d", ids[r], got, final[r])
		}
	}
}

// etcdCheckBound bounds porcupine's search.
const etcdCheckBound = 60 * time.Second

// etcdLinearizable checks the history against a register per rollout
// holding the version: a read returns it; a save returns true exactly when
// it equals the expected version and then increments it; a save with an
// unknown outcome may or may not have incremented it.
func etcdLinearizable(hist []etcdOp) porcupine.CheckResult {
	ops := make([]porcupine.Operation, len(hist))
	for i, op := range hist {
		ops[i] = porcupine.Operation{ClientId: op.writer, Input: op, Call: op.call, Output: op, Return: op.ret}
	}
	model := porcupine.NondeterministicModel{
		Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
			parts := make([][]porcupine.Operation, etcdRollouts)
			for _, op := range h {
				r := op.Input.(etcdOp).rollout
				parts[r] = append(parts[r], op)
			}
			return parts
		},
		Init: func() []any { return []any{int64(0)} },
		Step: func(state, input, _ any) []any {
			v, op := state.(int64), input.(etcdOp)
			switch {
			case !op.save:
				if op.version == v {
					return []any{v}
				}
				return nil
			case op.unknown:
				if op.version == v {
					return []any{v, v + 1}
				}
				return []any{v}
			case op.ok:
				if op.version == v {
					return []any{v + 1}
				}
				return nil
			default: // false: the stored version differed
				if op.version != v {
					return []any{v}
				}
				return nil
			}
		},
		DescribeOperation: func(input, _ any) string {
			op := input.(etcdOp)
			if !op.save {
				return fmt.Sprintf("get r%d -> %d", op.rollout, op.version)
			}
			out := fmt.Sprint(op.ok)
			if op.unknown {
				out = "unknown"
			}
			return fmt.Sprintf("save r%d expect %d -> %s", op.rollout, op.version, out)
		},
	}
	return porcupine.CheckOperationsTimeout(model.ToModel(), ops, etcdCheckBound)
}

// TestEtcdLinearizabilityModel shows that the checker used above can fail:
// it accepts a correct history, a history with an unknown save that did or
// did not apply, and rejects two true saves of one version and a lost save.
func TestEtcdLinearizabilityModel(t *testing.T) {
	get := func(w int, v int64, call, ret int64) etcdOp {
		return etcdOp{writer: w, version: v, call: call, ret: ret}
	}
	save := func(w int, v int64, ok bool, call, ret int64) etcdOp {
		return etcdOp{writer: w, save: true, version: v, ok: ok, call: call, ret: ret}
	}
	unknown := func(w int, v int64, call int64) etcdOp {
		return etcdOp{writer: w, save: true, version: v, unknown: true, call: call, ret: math.MaxInt64}
	}
	cases := []struct {
		name string
		hist []etcdOp
		want porcupine.CheckResult
	}{
		{"sequential", []etcdOp{get(0, 0, 0, 1), save(0, 0, true, 2, 3), get(1, 1, 4, 5), save(1, 1, true, 6, 7), get(0, 2, 8, 9)}, porcupine.Ok},
		{"conflict", []etcdOp{save(0, 0, true, 0, 10), save(1, 0, false, 0, 10), get(0, 1, 11, 12)}, porcupine.Ok},
		{"unknown applied", []etcdOp{unknown(0, 0, 0), get(1, 1, 5, 6)}, porcupine.Ok},
		{"unknown not applied", []etcdOp{unknown(0, 0, 0), get(1, 0, 5, 6), save(1, 0, true, 7, 8), get(1, 1, 9, 10)}, porcupine.Ok},
		{"two winners", []etcdOp{save(0, 0, true, 0, 10), save(1, 0, true, 0, 10)}, porcupine.Illegal},
		{"lost save", []etcdOp{save(0, 0, true, 0, 1), get(1, 0, 2, 3)}, porcupine.Illegal},
		{"false without conflict", []etcdOp{save(0, 0, false, 0, 1)}, porcupine.Illegal},
	}
	for _, c := range cases {
		if got := etcdLinearizable(c.hist); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
