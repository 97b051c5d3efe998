package integration

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/crosscluster"
	"github.com/baldur-go/baldur/etcdstore"
	"github.com/baldur-go/baldur/internal/embedetcd"
)

var syncNames = []string{"east", "west", "central"}

// Three agents in their default mode (each starts its own embedded etcd in
// its data dir), concurrent writes in all three clusters, including
// conflicting versions of the same policies: every cluster ends with the
// same records, the highest version of each, and the request approved in its
// target flows back to its source. SIGTERM exits 0.
func TestSyncConvergenceConcurrentWrites(t *testing.T) {
	type member struct{ name, client, peer, data string }
	var ms []member
	for _, n := range syncNames {
		cp, err := embedetcd.FreePort()
		require.NoError(t, err)
		pp, err := embedetcd.FreePort()
		require.NoError(t, err)
		ms = append(ms, member{n, fmt.Sprintf("http://127.0.0.1:%d", cp), fmt.Sprintf("http://127.0.0.1:%d", pp), filepath.Join(t.TempDir(), n)})
	}
	agents := make([]*syncAgent, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		args := []string{"--cluster", m.name, "--data-dir", m.data, "--embed-client-url", m.client, "--embed-peer-url", m.peer}
		for _, p := range ms {
			if p != m {
				args = append(args, "--peer", p.name+"="+p.client)
			}
		}
		wg.Go(func() { agents[i] = syncStartAgent(t, m.name, args, nil) })
	}
	wg.Wait()
	for _, a := range agents {
		require.NotNil(t, a)
	}
	// Clients of the agents' embedded etcd, for writing and checking.
	clusters := make([]*syncCluster, len(ms))
	for i, m := range ms {
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{m.client}, DialTimeout: 5 * time.Second})
		require.NoError(t, err)
		t.Cleanup(func() { _ = cli.Close() })
		st, err := etcdstore.New(cli)
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		svc, err := crosscluster.NewService(st.CrossCluster(), m.name)
		require.NoError(t, err)
		clusters[i] = &syncCluster{t: t, name: m.name, clientURL: m.client, cli: cli, store: st, svc: svc}
	}

	const own, shared = 20, 5
	var want []string
	for i := range shared {
		want = append(want, fmt.Sprintf("shared-%d", i))
	}
	var writers sync.WaitGroup
	for ci, c := range clusters {
		for i := range own {
			want = append(want, fmt.Sprintf("%s-%d", c.name, i))
		}
		writers.Go(func() {
			for i := range own {
				c.savePolicy(fmt.Sprintf("%s-%d", c.name, i), 1, float64(i))
				if i < shared {
					// Every cluster writes every shared policy; the
					// versions differ so one must win everywhere.
					c.savePolicy(fmt.Sprintf("shared-%d", i), int64(1+(ci+i)%3), float64(ci))
				}
			}
		})
	}
	writers.Wait()
	final := syncConverged(t, etcdstore.FamilyPolicy, want, clusters...)
	for i := range shared {
		rec, err := baldur.DecodeRecord([]byte(final[fmt.Sprintf("shared-%d", i)]))
		require.NoError(t, err)
		require.Equal(t, int64(3), baldur.VersionOf(rec), "shared-%d: the highest version wins", i)
	}

	// A propagation request east -> west, approved in west, flows back.
	east, west, central := clusters[0], clusters[1], clusters[2]
	_, err := east.svc.CreateRequests(syncCtx(t), "change-1", []string{"west"}, crosscluster.ConfigChange{
		ConfigType: "circuit_breaker", NewValue: map[string]any{"failure_threshold": 10}, ChangedBy: "it",
	})
	require.NoError(t, err)
	id := crosscluster.RequestID("change-1", "west")
	syncEventually(t, "request reaches west", func() bool {
		_, err := west.svc.GetRequest(syncCtx(t), id)
		return err == nil
	})
	_, err = west.svc.Approve(syncCtx(t), id, "ops", nil)
	require.NoError(t, err)
	for _, c := range []*syncCluster{east, central} {
		syncEventually(t, "approval reaches "+c.name, func() bool {
			rec, err := c.svc.GetRequest(syncCtx(t), id)
			return err == nil && rec["status"] == crosscluster.StatusApproved
		})
	}
	syncConverged(t, etcdstore.FamilyRequest, []string{id}, clusters...)

	for _, a := range agents {
		require.Equal(t, 0, a.term(), "agent %s exits 0 on SIGTERM", a.name)
		require.Contains(t, a.logText(), "baldur-sync stopped")
	}
}

// kill -9 of an agent while its peers keep writing, then a restart: every
// write reaches the cluster exactly once (no lost and no duplicated
// application), checked through etcd's per-key version counts and the
// stored checkpoint.
func TestSyncKillNineMidStream(t *testing.T) {
	clusters := syncStartClusters(t, syncNames...)
	east, west, central := clusters[0], clusters[1], clusters[2]
	agents := map[string]*syncAgent{}
	for _, c := range clusters {
		agents[c.name] = syncAgentFor(t, c, clusters)
	}

	const keys, rounds = 10, 60 // 600 writes in west, each key 60 times
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r := range rounds {
			for k := range keys {
				west.savePolicy(fmt.Sprintf("k-%d", k), int64(r+1), float64(r))
				time.Sleep(time.Millisecond)
			}
		}
	}()
	// Kill east's agent while the stream is flowing, twice.
	for range 2 {
		syncEventually(t, "east applies some writes", func() bool { return east.revision() > 20 })
		time.Sleep(150 * time.Millisecond)
		select {
		case <-done:
			t.Fatal("west finished writing before the kill: not mid-stream")
		default:
		}
		agents["east"].kill9()
		time.Sleep(300 * time.Millisecond)
		agents["east"].start()
		agents["east"].waitReady()
	}
	<-done

	var want []string
	for k := range keys {
		want = append(want, fmt.Sprintf("k-%d", k))
	}
	syncConverged(t, etcdstore.FamilyPolicy, want, clusters...)
	src := west.keyVersions(etcdstore.FamilyPolicy)
	for _, c := range []*syncCluster{east, central} {
		got := c.keyVersions(etcdstore.FamilyPolicy)
		require.Equal(t, src, got, "%s applied every west write exactly once (etcd key versions)", c.name)
		require.Equal(t, west.lastModRevision(etcdstore.FamilyPolicy), c.checkpoint("west"), "%s's checkpoint is west's last write", c.name)
	}
}

// A peer down for 20 s (its etcd crashed) while the others keep writing,
// then back: it catches up with everything, and what it held before the
// outage reached the others.
func TestSyncPeerDownAndBack(t *testing.T) {
	clusters := syncStartClusters(t, syncNames...)
	east, west, central := clusters[0], clusters[1], clusters[2]
	var agents []*syncAgent
	for _, c := range clusters {
		agents = append(agents, syncAgentFor(t, c, clusters))
	}
	var want []string
	for i := range 5 {
		west.savePolicy(fmt.Sprintf("before-west-%d", i), 1, 1)
		want = append(want, fmt.Sprintf("before-west-%d", i))
	}
	syncConverged(t, etcdstore.FamilyPolicy, want, clusters...)

	west.crash()
	downSince := time.Now()
	syncEventually(t, "east reports west disconnected", func() bool {
		for _, p := range agents[0].status().Peers {
			if p.Name == "west" {
				return !p.Connected && p.LastError != ""
			}
		}
		return false
	})
	require.Contains(t, agents[0].metrics(), `baldur_sync_peer_connected{peer="west"} 0`)
	for i := 0; time.Since(downSince) < 20*time.Second; i++ {
		for _, c := range []*syncCluster{east, central} {
			id := fmt.Sprintf("during-%s-%d", c.name, i)
			c.savePolicy(id, 1, float64(i))
			want = append(want, id)
		}
		time.Sleep(250 * time.Millisecond)
	}
	for _, a := range agents {
		require.True(t, a.running(), "agent %s survives the outage", a.name)
	}
	west.restart()
	west.savePolicy("after-west", 1, 1)
	want = append(want, "after-west")
	syncConverged(t, etcdstore.FamilyPolicy, want, clusters...)
	for _, a := range agents {
		a.waitReady()
	}
	require.Contains(t, agents[0].metrics(), `baldur_sync_peer_connected{peer="west"} 1`)
}

// Compaction at the source while the agent that reads it is down: on
// restart the agent finds its checkpoint compacted, lists the source again
// (a resync) and deletes the copies that no longer exist there.
func TestSyncCompactionResync(t *testing.T) {
	clusters := syncStartClusters(t, syncNames...)
	east, west := clusters[0], clusters[1]
	agents := map[string]*syncAgent{}
	for _, c := range clusters {
		agents[c.name] = syncAgentFor(t, c, clusters)
	}
	var all []string
	for i := range 20 {
		west.savePolicy(fmt.Sprintf("p-%d", i), 1, 1)
		all = append(all, fmt.Sprintf("p-%d", i))
	}
	syncConverged(t, etcdstore.FamilyPolicy, all, clusters...)

	require.Equal(t, 0, agents["east"].term())
	var want []string
	for i := range 20 {
		id := fmt.Sprintf("p-%d", i)
		switch {
		case i < 10:
			_, err := west.cli.Delete(syncCtx(t), syncKeys.Policy(id))
			require.NoError(t, err)
		case i < 15:
			west.savePolicy(id, 2, 2)
			want = append(want, id)
		default:
			want = append(want, id)
		}
	}
	for i := range 5 {
		west.savePolicy(fmt.Sprintf("new-%d", i), 1, 1)
		want = append(want, fmt.Sprintf("new-%d", i))
	}
	rev := west.revision()
	_, err := west.cli.Compact(syncCtx(t), rev, clientv3.WithCompactPhysical())
	require.NoError(t, err)
	require.Less(t, east.checkpoint("west"), rev, "east's checkpoint is now compacted at west")
	require.Len(t, east.policies(), 20, "east still has the stale copies")

	agents["east"].start()
	agents["east"].waitReady()
	final := syncConverged(t, etcdstore.FamilyPolicy, want, clusters...)
	for i := range 10 {
		require.NotContains(t, final, fmt.Sprintf("p-%d", i), "stale copy deleted")
	}
	syncEventually(t, "east reports a resync of west", func() bool {
		for _, p := range agents["east"].status().Peers {
			if p.Name == "west" {
				return p.Resyncs >= 1
			}
		}
		return false
	})
	require.Regexp(t, `baldur_sync_resyncs_total\{peer="west"\} [1-9]`, agents["east"].metrics())
}

// Write counts stay bounded in a full mesh: each cluster takes its own
// writes plus at most one copy per foreign write (and a few re-assertions
// for conflicts), and once converged nothing moves any more (no ping-pong).
func TestSyncNoPingPong(t *testing.T) {
	clusters := syncStartClusters(t, syncNames...)
	for _, c := range clusters {
		syncAgentFor(t, c, clusters)
	}
	start := map[string]int64{}
	for _, c := range clusters {
		start[c.name] = c.revision()
	}
	const n = 30
	var wg sync.WaitGroup
	for ci, c := range clusters {
		wg.Go(func() {
			for i := range n {
				// Every cluster writes the same ids: conflicts on purpose.
				c.savePolicy(fmt.Sprintf("c-%d", i), int64(1+(ci+i)%3), float64(ci))
			}
		})
	}
	wg.Wait()
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("c-%d", i))
	}
	syncConverged(t, etcdstore.FamilyPolicy, want, clusters...)
	// Converged content may still see a late checkpoint write or two; a
	// loop would never stop writing. Wait for the revisions to hold still
	// for 2 s, then check they stay still.
	revs := func() map[string]int64 {
		m := map[string]int64{}
		for _, c := range clusters {
			m[c.name] = c.revision()
		}
		return m
	}
	settled := revs()
	stableSince := time.Now()
	syncEventually(t, "revisions hold still (no ping-pong)", func() bool {
		now := revs()
		if fmt.Sprint(now) != fmt.Sprint(settled) {
			settled, stableSince = now, time.Now()
		}
		return time.Since(stableSince) >= 2*time.Second
	})
	time.Sleep(2 * time.Second)
	total := int64(0)
	for _, c := range clusters {
		require.Equal(t, settled[c.name], c.revision(), "%s: no write after convergence (no ping-pong)", c.name)
		total += settled[c.name] - start[c.name]
		// Own writes (n), at most one applied copy per foreign write (2n),
		// at most one re-assertion per older foreign copy (2n); the
		// checkpoints ride in the same transactions. A loop has no bound.
		require.LessOrEqual(t, settled[c.name]-start[c.name], int64(5*n), "%s: write count bounded", c.name)
	}
	t.Logf("writes: %d local, %d total revisions in the three clusters", 3*n, total)
}

// A malformed record at a source (not JSON; a policy with wrong types) is
// reported and skipped; the records around it still arrive.
func TestSyncMalformedRecordSkipped(t *testing.T) {
	clusters := syncStartClusters(t, syncNames...)
	east, west := clusters[0], clusters[1]
	agents := map[string]*syncAgent{}
	for _, c := range clusters {
		agents[c.name] = syncAgentFor(t, c, clusters)
	}
	west.savePolicy("good-1", 1, 1)
	_, err := west.cli.Put(syncCtx(t), syncKeys.Policy("bad-json"), "{not json")
	require.NoError(t, err)
	_, err = west.cli.Put(syncCtx(t), syncKeys.Policy("bad-types"), `{"policy_id":"bad-types","config_type":"cb","version":"two","rules":"none"}`)
	require.NoError(t, err)
	west.savePolicy("good-2", 1, 1)

	syncEventually(t, "good records arrive", func() bool {
		for _, c := range []*syncCluster{east, clusters[2]} {
			m := c.policies()
			if _, ok := m["good-2"]; !ok {
				return false
			}
		}
		return true
	})
	for _, c := range []*syncCluster{east, clusters[2]} {
		m := c.policies()
		require.Contains(t, m, "good-1")
		require.NotContains(t, m, "bad-json", c.name)
		require.NotContains(t, m, "bad-types", c.name)
	}
	for _, name := range []string{"east", "central"} {
		a := agents[name]
		require.True(t, a.running())
		var skipped uint64
		for _, p := range a.status().Peers {
			if p.Name == "west" {
				skipped = p.Skipped
			}
		}
		require.GreaterOrEqual(t, skipped, uint64(2), "%s skipped both malformed records", name)
		require.Regexp(t, `baldur_sync_skipped_total\{peer="west"\} [2-9]`, a.metrics())
	}
}
