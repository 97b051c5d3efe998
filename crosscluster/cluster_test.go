package crosscluster

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/internal/etcdtest"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
)

// testCluster is one single-member etcd cluster for the replicator tests.
type testCluster struct {
	name   string
	m      *etcdtest.Member
	Client *clientv3.Client // survives stop and start
}

func startCluster(t testing.TB, name string) *testCluster {
	t.Helper()
	m := etcdtest.NewMember(t)
	return &testCluster{name: name, m: m, Client: m.Client}
}

// stop hard-stops the member, keeping its data dir and URLs.
func (c *testCluster) stop() { c.m.Stop() }

// start restarts a stopped member.
func (c *testCluster) start() { c.m.Restart() }

// clusters starts n clusters named c0, c1, ... (or the given names).
func clusters(t testing.TB, names ...string) []*testCluster {
	out := make([]*testCluster, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() { out[i] = startCluster(t, n) })
	}
	wg.Wait()
	for _, c := range out {
		if c == nil {
			t.FailNow()
		}
	}
	return out
}

// runningReplicator is a replicator started in the background.
type runningReplicator struct {
	*Replicator
	cancel context.CancelFunc
	done   chan struct{}
	err    error // Run's result, set before done closes
}

func (r *runningReplicator) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
		require.NoError(t, r.err)
	case <-time.After(30 * time.Second):
		t.Fatal("replicator did not stop")
	}
}

func testOpts(t testing.TB, extra ...Option) []Option {
	return append([]Option{
		WithPrefix(testPrefix),
		WithLogger(zaptest.NewLogger(t, zaptest.Level(zapcore.WarnLevel))),
		WithBackoff(50*time.Millisecond, 500*time.Millisecond),
	}, extra...)
}

// startReplicator runs the replicator of local, pulling from peers.
func startReplicator(t testing.TB, local *testCluster, peers []*testCluster, opts ...Option) *runningReplicator {
	t.Helper()
	var ps []Peer
	for _, p := range peers {
		ps = append(ps, Peer{Name: p.name, Client: p.Client})
	}
	r, err := NewReplicator(local.Client, local.name, ps, testOpts(t, opts...)...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	rr := &runningReplicator{Replicator: r, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(rr.done)
		rr.err = r.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-rr.done })
	return rr
}

// mesh runs one replicator per cluster, each pulling from all others.
func mesh(t testing.TB, cs []*testCluster, opts ...Option) []*runningReplicator {
	var out []*runningReplicator
	for i, c := range cs {
		var peers []*testCluster
		for j, p := range cs {
			if i != j {
				peers = append(peers, p)
			}
		}
		out = append(out, startReplicator(t, c, peers, opts...))
	}
	return out
}

const testPrefix = "/baldur/"

var ks = newKeyspace(testPrefix)

func putPolicy(t testing.TB, c *testCluster, id string, version int64, updatedAt float64) {
	t.Helper()
	rec := Policy{ID: id, ConfigType: "retry", Version: version, CreatedBy: "test", CreatedAt: 1, UpdatedAt: updatedAt,
		Rules: []Rule{{Field: "max_attempts", Max: ptr(10.0)}}}.Record()
	b, err := encode(rec)
	require.NoError(t, err)
	_, err = c.Client.Put(context.Background(), ks.policy+id, b)
	require.NoError(t, err)
}

func ptr[T any](v T) *T { return &v }

// family returns key -> value of every record of one family at c.
func family(t testing.TB, c *testCluster, prefix string) map[string]string {
	t.Helper()
	resp, err := c.Client.Get(context.Background(), prefix, clientv3.WithPrefix())
	require.NoError(t, err)
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		out[string(kv.Key)] = string(kv.Value)
	}
	return out
}

func get(t testing.TB, c *testCluster, key string) (string, bool) {
	t.Helper()
	resp, err := c.Client.Get(context.Background(), key)
	require.NoError(t, err)
	if len(resp.Kvs) == 0 {
		return "", false
	}
	return string(resp.Kvs[0].Value), true
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// putCounter counts puts per key under prefix at c from the current
// revision on, through a watch.
type putCounter struct {
	mu     sync.Mutex
	puts   map[string]int
	cancel context.CancelFunc
	done   chan struct{}
}

func countPuts(t testing.TB, c *testCluster, prefix string) *putCounter {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pc := &putCounter{puts: map[string]int{}, cancel: cancel, done: make(chan struct{})}
	wch := c.Client.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	<-wch // created
	go func() {
		defer close(pc.done)
		for resp := range wch {
			pc.mu.Lock()
			for _, ev := range resp.Events {
				if ev.Type == clientv3.EventTypePut {
					pc.puts[string(ev.Kv.Key)]++
				}
			}
			pc.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-pc.done })
	return pc
}

func (p *putCounter) snapshot() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.puts))
	for k, v := range p.puts {
		out[k] = v
	}
	return out
}

func (p *putCounter) total() int {
	n := 0
	for _, v := range p.snapshot() {
		n += v
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func statusOf(r *Replicator, peer string) PeerStatus {
	for _, s := range r.Status() {
		if s.Peer == peer {
			return s
		}
	}
	panic(fmt.Sprintf("no peer %q", peer))
}

func policyIDs(m map[string]string) []string {
	var out []string
	for _, k := range sortedKeys(m) {
		out = append(out, strings.TrimPrefix(k, ks.policy))
	}
	return out
}

func encode(r map[string]any) (string, error) {
	b, err := baldur.EncodeRecord(r)
	return string(b), err
}
