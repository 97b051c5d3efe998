package crosscluster

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/baldur-go/baldur/internal/etcdtest"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/mirror"
)

// benchCluster starts a single-member cluster with fsync on, as the figures
// in docs/PERFORMANCE.md are measured.
func benchCluster(b *testing.B, name string) *testCluster {
	m := etcdtest.NewMember(b, etcdtest.WithFsync())
	return &testCluster{name: name, m: m, Client: m.Client}
}

// arrivals records when each key first shows up at a cluster.
type arrivals struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func watchArrivals(b *testing.B, c *clientv3.Client, prefix string) *arrivals {
	a := &arrivals{seen: map[string]time.Time{}}
	ctx, cancel := context.WithCancel(context.Background())
	wch := c.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	<-wch
	done := make(chan struct{})
	go func() {
		defer close(done)
		for resp := range wch {
			now := time.Now()
			a.mu.Lock()
			for _, ev := range resp.Events {
				k := string(ev.Kv.Key)
				if _, ok := a.seen[k]; !ok && ev.Type == clientv3.EventTypePut {
					a.seen[k] = now
				}
			}
			a.mu.Unlock()
		}
	}()
	b.Cleanup(func() { cancel(); <-done })
	return a
}

func (a *arrivals) at(key string) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.seen[key]
	return t, ok
}

// runMirror copies prefix from src to dst the way etcdctl make-mirror does:
// mirror.Syncer's updates from rev+1, one transaction per watch response.
func runMirror(b *testing.B, src, dst *clientv3.Client, prefix string, rev int64) {
	ctx, cancel := context.WithCancel(context.Background())
	s := mirror.NewSyncer(src, prefix, rev)
	wch := s.SyncUpdates(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for resp := range wch {
			var ops []clientv3.Op
			for _, ev := range resp.Events {
				if ev.Type == clientv3.EventTypePut {
					ops = append(ops, clientv3.OpPut(string(ev.Kv.Key), string(ev.Kv.Value)))
				} else {
					ops = append(ops, clientv3.OpDelete(string(ev.Kv.Key)))
				}
			}
			if len(ops) > 0 {
				if _, err := dst.Txn(ctx).Then(ops...).Commit(); err != nil && ctx.Err() == nil {
					b.Errorf("mirror apply: %v", err)
				}
			}
		}
	}()
	b.Cleanup(func() { cancel(); <-done })
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// BenchmarkPropagation writes b.N policies into east at 100 writes/s and
// measures, per write, the time until it is visible in both west and
// central: through the replicators of a three-cluster full mesh, and, in
// the same run, through two mirror.Syncer copies of east's policy prefix
// into two more clusters. Run with -benchtime=1000x.
func BenchmarkPropagation(b *testing.B) {
	names := []string{"east", "west", "central", "mirror-west", "mirror-central"}
	cs := make([]*testCluster, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() { cs[i] = benchCluster(b, n) })
	}
	wg.Wait()
	east, west, central, mw, mc := cs[0], cs[1], cs[2], cs[3], cs[4]
	reps := mesh(b, cs[:3])
	for _, r := range reps {
		waitFor(b, 30*time.Second, "ready", r.Ready)
	}
	head, err := east.Client.Get(context.Background(), "x")
	require.NoError(b, err)
	runMirror(b, east.Client, mw.Client, ks.policy, head.Header.Revision)
	runMirror(b, east.Client, mc.Client, ks.policy, head.Header.Revision)
	seen := map[string]*arrivals{}
	for _, c := range []*testCluster{west, central, mw, mc} {
		seen[c.name] = watchArrivals(b, c.Client, ks.policy)
	}

	written := make([]time.Time, b.N)
	tick := time.NewTicker(10 * time.Millisecond) // 100 writes per second
	defer tick.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		<-tick.C
		written[i] = time.Now()
		putPolicy(b, east, fmt.Sprintf("bench-%06d", i), 1, float64(i))
	}
	latency := func(a, c string) []time.Duration {
		var out []time.Duration
		for i := 0; i < b.N; i++ {
			key := ks.policy + fmt.Sprintf("bench-%06d", i)
			var ta, tc time.Time
			waitFor(b, 30*time.Second, key+" everywhere", func() bool {
				var okA, okC bool
				ta, okA = seen[a].at(key)
				tc, okC = seen[c].at(key)
				return okA && okC
			})
			out = append(out, max(ta.Sub(written[i]), tc.Sub(written[i])))
		}
		return out
	}
	ours, theirs := latency("west", "central"), latency("mirror-west", "mirror-central")
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	b.ReportMetric(ms(percentile(ours, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(ours, 0.99)), "p99-ms")
	b.ReportMetric(ms(percentile(theirs, 0.50)), "mirror-p50-ms")
	b.ReportMetric(ms(percentile(theirs, 0.99)), "mirror-p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkResync measures a full resync of 10,000 policies from east into
// an empty west (list, merge against west's copy, batched guarded
// transactions, checkpoint) against mirror.Syncer's base copy of the same
// prefix into another cluster in transactions of 100 puts.
func BenchmarkResync(b *testing.B) {
	const n = 10000
	east, west, mw := benchCluster(b, "east"), benchCluster(b, "west"), benchCluster(b, "mirror")
	ctx := context.Background()
	var ops []clientv3.Op
	for i := 0; i < n; i++ {
		rec := Policy{ID: fmt.Sprintf("p%05d", i), ConfigType: "retry", Version: 1, CreatedBy: "bench", CreatedAt: 1,
			Rules: []Rule{{Field: "max_attempts", Min: ptr(1.0), Max: ptr(10.0)}, {Field: "backoff", Allowed: []any{"linear", "exponential"}}}}.Record()
		v, err := encode(rec)
		require.NoError(b, err)
		ops = append(ops, clientv3.OpPut(ks.policy+fmt.Sprintf("p%05d", i), v))
		if len(ops) == 100 {
			_, err := east.Client.Txn(ctx).Then(ops...).Commit()
			require.NoError(b, err)
			ops = ops[:0]
		}
	}
	clear := func(c *testCluster) {
		_, err := c.Client.Delete(ctx, testPrefix, clientv3.WithPrefix())
		require.NoError(b, err)
	}

	r, err := NewReplicator(west.Client, "west", []Peer{{Name: "east", Client: east.Client}}, testOpts(b)...)
	require.NoError(b, err)
	mirrorBase := func() {
		s := mirror.NewSyncer(east.Client, ks.policy, 0)
		rc, errc := s.SyncBase(ctx)
		var ops []clientv3.Op
		flush := func() {
			if len(ops) > 0 {
				if _, err := mw.Client.Txn(ctx).Then(ops...).Commit(); err != nil {
					b.Fatal(err)
				}
				ops = ops[:0]
			}
		}
		for resp := range rc {
			for _, kv := range resp.Kvs {
				ops = append(ops, clientv3.OpPut(string(kv.Key), string(kv.Value)))
				if len(ops) == 100 {
					flush()
				}
			}
		}
		flush()
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
	// Both copies run in every iteration, one after the other, so that they
	// see the same machine load.
	var ours, theirs time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		clear(west)
		clear(mw)
		b.StartTimer()
		t0 := time.Now()
		if _, err := r.resync(ctx, r.peers[0]); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		mirrorBase()
		ours, theirs = ours+t1.Sub(t0), theirs+time.Since(t1)
	}
	b.StopTimer()
	for _, c := range []*testCluster{west, mw} {
		got, err := c.Client.Get(ctx, ks.policy, clientv3.WithPrefix(), clientv3.WithCountOnly())
		require.NoError(b, err)
		require.EqualValues(b, n, got.Count)
	}
	b.ReportMetric(ours.Seconds()/float64(b.N), "resync-s")
	b.ReportMetric(theirs.Seconds()/float64(b.N), "mirror-s")
	b.ReportMetric(ours.Seconds()/theirs.Seconds(), "ratio")
	b.ReportMetric(0, "ns/op")
}
