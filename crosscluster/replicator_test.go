package crosscluster

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/baldur-go/baldur"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
)

const wait = 20 * time.Second

func TestNewReplicator_RefusesBadInput(t *testing.T) {
	c := &clientv3.Client{}
	for name, tc := range map[string]struct {
		local *clientv3.Client
		name  string
		peers []Peer
		opts  []Option
	}{
		"nil local":      {nil, "east", nil, nil},
		"bad name":       {c, "a/b", nil, nil},
		"peer is local":  {c, "east", []Peer{{Name: "east", Client: c}}, nil},
		"duplicate peer": {c, "east", []Peer{{Name: "west", Client: c}, {Name: "west", Client: c}}, nil},
		"nil client":     {c, "east", []Peer{{Name: "west"}}, nil},
		"empty prefix":   {c, "east", nil, []Option{WithPrefix("")}},
		"bad backoff":    {c, "east", nil, []Option{WithBackoff(time.Second, time.Millisecond)}},
		"nil logger":     {c, "east", nil, []Option{WithLogger(nil)}},
		"batch size":     {c, "east", nil, []Option{WithBatchSize(0)}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewReplicator(tc.local, tc.name, tc.peers, tc.opts...)
			require.ErrorIs(t, err, baldur.ErrInvalidArgument)
		})
	}
}

func TestReplicator_PolicyPropagates(t *testing.T) {
	cs := clusters(t, "east", "west")
	east, west := cs[0], cs[1]
	reg := prometheus.NewRegistry()
	rw := startReplicator(t, west, []*testCluster{east}, WithRegisterer(reg))
	startReplicator(t, east, []*testCluster{west})
	waitFor(t, wait, "ready", rw.Ready)

	putPolicy(t, east, "p1", 1, 10)
	want, _ := get(t, east, ks.policy+"p1")
	waitFor(t, wait, "p1 at west", func() bool { v, ok := get(t, west, ks.policy+"p1"); return ok && v == want })

	// The copy carries its origin in a marker written in the same transaction.
	resp, err := west.Client.Txn(context.Background()).Then(
		clientv3.OpGet(ks.policy+"p1"), clientv3.OpGet(ks.marker(kindPolicy, "p1"))).Commit()
	require.NoError(t, err)
	rec, mk := resp.Responses[0].GetResponseRange().Kvs[0], resp.Responses[1].GetResponseRange().Kvs[0]
	assert.Equal(t, rec.ModRevision, mk.ModRevision)
	m, ok := decodeMarker(mk.Value)
	require.True(t, ok)
	assert.Equal(t, "east", m.Origin)
	assert.Equal(t, "east", m.Peer)
	assert.False(t, m.Forward)

	// The received copy is not sent back: east holds no marker.
	time.Sleep(500 * time.Millisecond)
	_, has := get(t, east, ks.marker(kindPolicy, "p1"))
	assert.False(t, has, "east must not receive its own policy back")

	// A newer version written at west flows to east.
	putPolicy(t, west, "p1", 2, 11)
	want2, _ := get(t, west, ks.policy+"p1")
	waitFor(t, wait, "p1 v2 at east", func() bool { v, _ := get(t, east, ks.policy+"p1"); return v == want2 })

	st := statusOf(rw.Replicator, "east")
	assert.True(t, st.Connected)
	assert.EqualValues(t, 1, st.Replicated)
	assert.Zero(t, st.Skipped)
	assert.EqualValues(t, 1, counterValue(t, rw.m.replicated.WithLabelValues("east")))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, n := range []string{"baldur_sync_records_replicated_total", "baldur_sync_checkpoint_revision",
		"baldur_sync_lag_seconds", "baldur_sync_resyncs_total"} {
		assert.True(t, names[n], "metric %s registered", n)
	}
	// A second replicator on the same registry is refused.
	_, err = NewReplicator(west.Client, "west", []Peer{{Name: "east", Client: east.Client}}, WithRegisterer(reg))
	require.Error(t, err)
}

func TestReplicator_DeletePropagates(t *testing.T) {
	cs := clusters(t, "east", "west")
	east, west := cs[0], cs[1]
	mesh(t, cs)
	putPolicy(t, east, "p1", 1, 10)
	putPolicy(t, east, "p2", 1, 10)
	waitFor(t, wait, "copies at west", func() bool { return len(family(t, west, ks.policy)) == 2 })

	_, err := east.Client.Delete(context.Background(), ks.policy+"p1")
	require.NoError(t, err)
	waitFor(t, wait, "delete at west", func() bool { _, ok := get(t, west, ks.policy+"p1"); return !ok })
	_, ok := get(t, west, ks.marker(kindPolicy, "p1"))
	assert.False(t, ok, "the marker goes with the copy")

	// A delete made where the copy lives flows back to the origin too.
	_, err = west.Client.Delete(context.Background(), ks.policy+"p2")
	require.NoError(t, err)
	waitFor(t, wait, "delete at east", func() bool { _, ok := get(t, east, ks.policy+"p2"); return !ok })
}

// putRequest writes a request record the way the etcd store does: on its own
// lease.
func putRequest(t testing.TB, c *testCluster, rec baldur.Record, ttl int64) {
	t.Helper()
	b, err := encode(rec)
	require.NoError(t, err)
	l, err := c.Client.Grant(context.Background(), ttl)
	require.NoError(t, err)
	_, err = c.Client.Put(context.Background(), ks.request+rec["request_id"].(string), b, clientv3.WithLease(l.ID))
	require.NoError(t, err)
}

func TestReplicator_ApprovalFlowsBack(t *testing.T) {
	cs := clusters(t, "east", "west")
	east, west := cs[0], cs[1]
	mesh(t, cs)
	id := "change1-west"
	now := float64(time.Now().Unix())
	req := baldur.Record{
		"request_id": id, "source_cluster": "east", "target_cluster": "west",
		"config_change": map[string]any{"config_type": "retry", "new_value": 3},
		"status":        StatusPendingApproval, "created_at": now, "updated_at": now, "expires_at": now + 86400,
	}
	putRequest(t, east, req, 3600)
	_, err := east.Client.Put(context.Background(), ks.pendingKey("west", id), "")
	require.NoError(t, err)

	waitFor(t, wait, "request at west", func() bool { _, ok := get(t, west, ks.request+id); return ok })
	waitFor(t, wait, "pending entry at west", func() bool { _, ok := get(t, west, ks.pendingKey("west", id)); return ok })

	// The copy keeps a lease with the source's remaining TTL.
	resp, err := west.Client.Get(context.Background(), ks.request+id)
	require.NoError(t, err)
	require.NotZero(t, resp.Kvs[0].Lease)
	ttl, err := west.Client.TimeToLive(context.Background(), clientv3.LeaseID(resp.Kvs[0].Lease))
	require.NoError(t, err)
	assert.InDelta(t, 3600, ttl.TTL, 30)

	// Approve in the target: the approval reaches the source, and both
	// pending entries go.
	req["status"], req["approved_by"], req["updated_at"] = StatusApproved, "alice", now+1
	putRequest(t, west, req, 3600)
	_, err = west.Client.Delete(context.Background(), ks.pendingKey("west", id))
	require.NoError(t, err)
	waitFor(t, wait, "approval at east", func() bool {
		v, _ := get(t, east, ks.request+id)
		return strings.Contains(v, `"status":"approved"`)
	})
	waitFor(t, wait, "pending entry gone at east", func() bool { _, ok := get(t, east, ks.pendingKey("west", id)); return !ok })

	// A stale pending copy never overwrites the approval: rewrite the
	// original at east (an older status) and watch it lose everywhere.
	req["status"], req["updated_at"] = StatusPendingApproval, now+5
	delete(req, "approved_by")
	putRequest(t, east, req, 3600)
	waitFor(t, wait, "approval restored at east", func() bool {
		v, _ := get(t, east, ks.request+id)
		return strings.Contains(v, `"status":"approved"`)
	})
	v, _ := get(t, west, ks.request+id)
	assert.Contains(t, v, `"status":"approved"`)
}

func TestReplicator_RequestCopyExpiresWithItsLease(t *testing.T) {
	cs := clusters(t, "east", "west")
	east, west := cs[0], cs[1]
	mesh(t, cs)
	now := float64(time.Now().Unix())
	putRequest(t, east, baldur.Record{"request_id": "r-west", "source_cluster": "east", "target_cluster": "west",
		"status": StatusPendingApproval, "created_at": now, "updated_at": now, "expires_at": now + 86400}, 3)
	waitFor(t, wait, "copy at west", func() bool { _, ok := get(t, west, ks.request+"r-west"); return ok })
	waitFor(t, wait, "pending entry at west", func() bool { _, ok := get(t, west, ks.pendingKey("west", "r-west")); return ok })
	waitFor(t, wait, "copy gone at west", func() bool { _, ok := get(t, west, ks.request+"r-west"); return !ok })
	_, ok := get(t, west, ks.marker(kindRequest, "r-west"))
	assert.False(t, ok, "the marker shares the copy's lease")
	// The pending entry has no lease: the source's expiry removes it.
	waitFor(t, wait, "pending entry gone at west", func() bool { _, ok := get(t, west, ks.pendingKey("west", "r-west")); return !ok })
}

func TestReplicator_MeshConvergesWithoutPingPong(t *testing.T) {
	cs := clusters(t, "east", "west", "central")
	counters := make([]*putCounter, len(cs))
	for i, c := range cs {
		counters[i] = countPuts(t, c, ks.policy)
	}
	mesh(t, cs)

	// Concurrent writes in all three: shared ids with competing versions
	// and update times, and ids of their own.
	const shared, own = 10, 10
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			for j := 0; j < shared; j++ {
				putPolicy(t, c, fmt.Sprintf("shared-%d", j), int64((i+j)%3+1), float64(100+i))
			}
			for j := 0; j < own; j++ {
				putPolicy(t, c, fmt.Sprintf("%s-%d", c.name, j), 1, 1)
			}
		})
	}
	wg.Wait()
	localWrites := len(cs) * (shared + own)

	converged := func() bool {
		a := family(t, cs[0], ks.policy)
		if len(a) != shared+len(cs)*own {
			return false
		}
		for _, c := range cs[1:] {
			if fmt.Sprint(family(t, c, ks.policy)) != fmt.Sprint(a) {
				return false
			}
		}
		return true
	}
	waitFor(t, wait, "convergence", converged)

	// The winner of every shared id is the highest version, then the
	// latest update time.
	for j := 0; j < shared; j++ {
		v, _ := get(t, cs[0], ks.policy+fmt.Sprintf("shared-%d", j))
		rec, err := baldur.DecodeRecord([]byte(v))
		require.NoError(t, err)
		assert.EqualValues(t, 3, rec["version"], "shared-%d", j)
	}

	// Quiet: the writes stop (a loop would never let the revisions rest).
	revs := func() string {
		var out []int64
		for _, c := range cs {
			r, err := c.Client.Get(context.Background(), "x")
			require.NoError(t, err)
			out = append(out, r.Header.Revision)
		}
		return fmt.Sprint(out)
	}
	last, stable := revs(), 0
	waitFor(t, wait, "no more writes", func() bool {
		time.Sleep(500 * time.Millisecond)
		if now := revs(); now != last {
			last, stable = now, 0
			return false
		}
		stable++
		return stable >= 4
	})
	total := 0
	for i, c := range cs {
		n := counters[i].total()
		total += n
		// Each cluster writes its own records, receives each foreign one at
		// most once per distinct winning value, plus re-assertions; far
		// below what a loop would produce.
		assert.LessOrEqual(t, n, 3*localWrites, "%s: %d puts", c.name, n)
	}
	require.True(t, converged())
	t.Logf("%d local writes, %d puts in all three clusters", localWrites, total)
}

func TestReplicator_OlderLocalWriteLoses(t *testing.T) {
	cs := clusters(t, "east", "west", "central")
	east, west, central := cs[0], cs[1], cs[2]
	mesh(t, cs)
	putPolicy(t, east, "p", 3, 10)
	want, _ := get(t, east, ks.policy+"p")
	for _, c := range cs[1:] {
		waitFor(t, wait, "v3 at "+c.name, func() bool { v, _ := get(t, c, ks.policy+"p"); return v == want })
	}
	// west downgrades locally: the others keep v3 and send it back.
	putPolicy(t, west, "p", 1, 50)
	waitFor(t, wait, "v3 restored at west", func() bool { v, _ := get(t, west, ks.policy+"p"); return v == want })
	for _, c := range []*testCluster{east, central} {
		v, _ := get(t, c, ks.policy+"p")
		assert.Equal(t, want, v)
	}
}

func TestReplicator_RestartResumesFromCheckpoint(t *testing.T) {
	cs := clusters(t, "east", "west")
	east, west := cs[0], cs[1]
	puts := countPuts(t, west, ks.policy)
	r := startReplicator(t, west, []*testCluster{east})
	for i := 0; i < 10; i++ {
		putPolicy(t, east, fmt.Sprintf("p%02d", i), 1, 1)
	}
	waitFor(t, wait, "first ten", func() bool { return len(family(t, west, ks.policy)) == 10 })
	r.stop(t)
	cp, ok := get(t, west, ks.checkpoint("east"))
	require.True(t, ok, "checkpoint stored")
	last, err := east.Client.Get(context.Background(), ks.policy+"p09")
	require.NoError(t, err)
	// The checkpoint is the revision of the last applied write (or a later
	// one that carried no change for west).
	n, err := strconv.ParseInt(cp, 10, 64)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, last.Kvs[0].ModRevision)
	assert.LessOrEqual(t, n, last.Header.Revision)

	for i := 10; i < 20; i++ {
		putPolicy(t, east, fmt.Sprintf("p%02d", i), 1, 1)
	}
	r2 := startReplicator(t, west, []*testCluster{east})
	waitFor(t, wait, "all twenty", func() bool { return len(family(t, west, ks.policy)) == 20 })
	time.Sleep(time.Second)
	for k, n := range puts.snapshot() {
		assert.Equal(t, 1, n, "%s applied %d times", k, n)
	}
	assert.Len(t, puts.snapshot(), 20)
	assert.Zero(t, statusOf(r2.Replicator, "east").Resyncs, "resumed by watch, not by a re-list")
}

// A peer whose etcd was wiped and recreated restarts at low revisions; the
// stored checkpoint belongs to its old incarnation. The replicator must list
// the new one rather than wait for revisions past the old checkpoint.
func TestReplicator_RecreatedPeerIsListedAgain(t *testing.T) {
	cs := clusters(t, "east", "west")
	east, west := cs[0], cs[1]
	r := startReplicator(t, west, []*testCluster{east})
	for i := 0; i < 20; i++ {
		putPolicy(t, east, fmt.Sprintf("old%02d", i), 1, 1)
	}
	waitFor(t, wait, "old copies", func() bool { return len(family(t, west, ks.policy)) == 20 })
	r.stop(t)

	fresh := startCluster(t, "east") // east, recreated: empty, revision 1
	putPolicy(t, fresh, "new", 1, 1)
	r2 := startReplicator(t, west, []*testCluster{fresh})
	waitFor(t, wait, "the recreated peer's policy, and the old copies gone", func() bool {
		got := family(t, west, ks.policy)
		_, ok := got[ks.policy+"new"]
		return ok && len(got) == 1
	})
	assert.Equal(t, uint64(1), statusOf(r2.Replicator, "east").Resyncs)
}

func TestReplicator_CompactionResyncDeletesStale(t *testing.T) {
	cs := clusters(t, "east", "west")
	east, west := cs[0], cs[1]
	r := startReplicator(t, west, []*testCluster{east})
	for i := 0; i < 5; i++ {
		putPolicy(t, east, fmt.Sprintf("p%d", i), 1, 1)
	}
	// A record written at west itself must survive the resync.
	putPolicy(t, west, "local", 1, 1)
	waitFor(t, wait, "copies", func() bool { return len(family(t, west, ks.policy)) == 6 })
	r.stop(t)

	ctx := context.Background()
	for _, id := range []string{"p0", "p1"} {
		_, err := east.Client.Delete(ctx, ks.policy+id)
		require.NoError(t, err)
	}
	putPolicy(t, east, "p5", 1, 1)
	putPolicy(t, east, "p2", 2, 2)
	h, err := east.Client.Get(ctx, "x")
	require.NoError(t, err)
	_, err = east.Client.Compact(ctx, h.Header.Revision)
	require.NoError(t, err)

	r2 := startReplicator(t, west, []*testCluster{east})
	waitFor(t, wait, "resync", func() bool {
		return fmt.Sprint(policyIDs(family(t, west, ks.policy))) == "[local p2 p3 p4 p5]"
	})
	v, _ := get(t, west, ks.policy+"p2")
	assert.Contains(t, v, `"version":2`)
	assert.EqualValues(t, 1, statusOf(r2.Replicator, "east").Resyncs)
	_, ok := get(t, west, ks.marker(kindPolicy, "p0"))
	assert.False(t, ok)

	// The stream goes on after the resync.
	putPolicy(t, east, "p6", 1, 1)
	waitFor(t, wait, "p6", func() bool { _, ok := get(t, west, ks.policy+"p6"); return ok })
}

func TestReplicator_MalformedRecordSkipped(t *testing.T) {
	cs := clusters(t, "east", "west")
	east, west := cs[0], cs[1]
	r := startReplicator(t, west, []*testCluster{east})
	waitFor(t, wait, "ready", r.Ready)
	ctx := context.Background()
	_, err := east.Client.Put(ctx, ks.policy+"bad-json", "{not json")
	require.NoError(t, err)
	_, err = east.Client.Put(ctx, ks.policy+"bad-types", `{"policy_id":"bad-types","config_type":"x","version":"two","rules":[]}`)
	require.NoError(t, err)
	_, err = east.Client.Put(ctx, ks.request+"bad-status", `{"request_id":"bad-status","target_cluster":"west","status":"maybe"}`)
	require.NoError(t, err)
	putPolicy(t, east, "good", 1, 1)

	waitFor(t, wait, "good", func() bool { _, ok := get(t, west, ks.policy+"good"); return ok })
	assert.Equal(t, []string{"good"}, policyIDs(family(t, west, ks.policy)))
	assert.Empty(t, family(t, west, ks.request))
	st := statusOf(r.Replicator, "east")
	assert.EqualValues(t, 3, st.Skipped)
	assert.GreaterOrEqual(t, st.Errors, uint64(3))
	assert.Contains(t, st.LastError, "malformed")
	assert.EqualValues(t, 3, counterValue(t, r.m.errors.WithLabelValues("east", "malformed")))
}

func TestReplicator_PeerDownCaughtUp(t *testing.T) {
	cs := clusters(t, "east", "west")
	east, west := cs[0], cs[1]
	r := startReplicator(t, west, []*testCluster{east})
	putPolicy(t, east, "before", 1, 1)
	waitFor(t, wait, "before", func() bool { _, ok := get(t, west, ks.policy+"before"); return ok })

	east.stop()
	waitFor(t, wait, "east seen down", func() bool { return !statusOf(r.Replicator, "east").Connected })
	time.Sleep(2 * time.Second) // a few failed retries
	east.start()
	putPolicy(t, east, "after", 1, 1)
	waitFor(t, wait, "after", func() bool { _, ok := get(t, west, ks.policy+"after"); return ok })
	st := statusOf(r.Replicator, "east")
	assert.True(t, st.Connected)
	assert.NotZero(t, st.Errors)
	assert.NotEmpty(t, st.LastError)
}

func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	require.NoError(t, c.Write(&m))
	return m.GetCounter().GetValue()
}

func TestReplicator_CheckpointAdvancesPastSkippedEvents(t *testing.T) {
	cs := clusters(t, "east", "west")
	east, west := cs[0], cs[1]
	startReplicator(t, west, []*testCluster{east})
	putPolicy(t, east, "p", 1, 1)
	waitFor(t, wait, "p", func() bool { _, ok := get(t, west, ks.policy+"p"); return ok })
	// Pending entries are not replicated: nothing to apply, yet the stored
	// checkpoint catches up so a restart need not replay them.
	for i := 0; i < 5; i++ {
		_, err := east.Client.Put(context.Background(), ks.pendingKey("x", fmt.Sprint(i)), "")
		require.NoError(t, err)
	}
	head, err := east.Client.Get(context.Background(), "x")
	require.NoError(t, err)
	waitFor(t, wait, "stored checkpoint at the head", func() bool {
		v, _ := get(t, west, ks.checkpoint("east"))
		return v == fmt.Sprint(head.Header.Revision)
	})
	assert.Empty(t, family(t, west, ks.pending))
}

func TestReplicator_RunTwiceRefused(t *testing.T) {
	cs := clusters(t, "east", "west")
	r := startReplicator(t, cs[1], cs[:1])
	waitFor(t, wait, "ready", r.Ready)
	err := r.Run(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "already running")
	// Caught up: no lag once the peer's head was processed.
	putPolicy(t, cs[0], "p", 1, 1)
	waitFor(t, wait, "lag back to 0", func() bool {
		st := statusOf(r.Replicator, "east")
		_, ok := get(t, cs[1], ks.policy+"p")
		return ok && st.Lag == 0 && st.Checkpoint > 0
	})
}

// The local cluster goes away while its peer keeps taking writes; when it is
// back, the replicator catches up from its checkpoint.
func TestReplicator_LocalDownCaughtUp(t *testing.T) {
	cs := clusters(t, "east", "west")
	east, west := cs[0], cs[1]
	r := startReplicator(t, west, []*testCluster{east})
	putPolicy(t, east, "before", 1, 1)
	waitFor(t, wait, "before", func() bool { _, ok := get(t, west, ks.policy+"before"); return ok })

	west.stop()
	for i := 0; i < 5; i++ {
		putPolicy(t, east, fmt.Sprintf("during-%d", i), 1, 1)
	}
	waitFor(t, wait, "failure seen", func() bool { return statusOf(r.Replicator, "east").Errors > 0 })
	west.start()
	waitFor(t, wait, "caught up", func() bool { return len(family(t, west, ks.policy)) == 6 })
}
