package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/crosscluster"
	"github.com/baldur-go/baldur/etcdstore"
	"github.com/baldur-go/baldur/internal/embedetcd"
)

const (
	syncWait   = 30 * time.Second // bound of every "eventually"
	syncPoll   = 25 * time.Millisecond
	syncPrefix = etcdstore.DefaultPrefix
)

var syncKeys = etcdstore.NewKeys(syncPrefix)

// syncCluster is one cluster whose etcd the test owns (embedded in the test
// process), so that it can stop, restart and compact it behind the agents'
// backs.
type syncCluster struct {
	t         testing.TB
	name      string
	dir       string
	clientURL string
	peerURL   string

	mu   sync.Mutex
	etcd *embedetcd.Server // nil while stopped

	cli   *clientv3.Client
	store *etcdstore.Store
	svc   *crosscluster.Service
}

// syncStartClusters starts one single-member etcd per name, concurrently.
func syncStartClusters(t testing.TB, names ...string) []*syncCluster {
	t.Helper()
	out := make([]*syncCluster, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		c := &syncCluster{t: t, name: name, dir: filepath.Join(t.TempDir(), name)}
		out[i] = c
		wg.Go(func() {
			s, err := embedetcd.Start(context.Background(), embedetcd.Config{Name: name, Dir: c.dir, UnsafeNoFsync: true})
			if err != nil {
				errs[i] = err
				return
			}
			c.etcd, c.clientURL, c.peerURL = s, s.ClientURL(), s.PeerURL()
		})
	}
	wg.Wait()
	for i, c := range out {
		if c.etcd != nil {
			t.Cleanup(c.close)
		}
		require.NoError(t, errs[i], "etcd of %s", names[i])
	}
	for _, c := range out {
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{c.clientURL}, DialTimeout: 5 * time.Second})
		require.NoError(t, err)
		c.cli = cli
		t.Cleanup(func() { _ = cli.Close() })
		c.store, err = etcdstore.New(cli)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.store.Close() })
		c.svc, err = crosscluster.NewService(c.store.CrossCluster(), c.name)
		require.NoError(t, err)
	}
	return out
}

func (c *syncCluster) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.etcd != nil {
		c.etcd.Close()
		c.etcd = nil
	}
}

// crash stops the member abruptly, keeping its data directory.
func (c *syncCluster) crash() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.etcd.HardStop()
	c.etcd = nil
}

// restart brings a crashed member back on the same URLs and data.
func (c *syncCluster) restart() {
	c.t.Helper()
	s, err := embedetcd.Start(context.Background(), embedetcd.Config{
		Name: c.name, Dir: c.dir, ClientURL: c.clientURL, PeerURL: c.peerURL, UnsafeNoFsync: true,
	})
	require.NoError(c.t, err, "restart etcd of %s", c.name)
	c.mu.Lock()
	c.etcd = s
	c.mu.Unlock()
}

func syncCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), syncWait)
	t.Cleanup(cancel)
	return ctx
}

// savePolicy writes a policy through the cluster's workflow service.
func (c *syncCluster) savePolicy(id string, version int64, maxValue float64) {
	c.t.Helper()
	err := c.svc.SavePolicy(syncCtx(c.t), crosscluster.Policy{
		ID: id, ConfigType: "circuit_breaker", Version: version, CreatedBy: c.name,
		Rules: []crosscluster.Rule{{Field: "failure_threshold", Max: &maxValue}},
	})
	require.NoError(c.t, err, "save policy %s in %s", id, c.name)
}

// family returns id -> canonical JSON of every record of a key family.
func (c *syncCluster) family(family string) map[string]string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pfx := syncKeys.Family(family)
	resp, err := c.cli.Get(ctx, pfx, clientv3.WithPrefix())
	require.NoError(c.t, err, "list %s in %s", family, c.name)
	out := make(map[string]string, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		id := strings.TrimPrefix(string(kv.Key), pfx)
		rec, err := baldur.DecodeRecord(kv.Value)
		if err != nil {
			out[id] = "MALFORMED:" + string(kv.Value)
			continue
		}
		b, err := baldur.EncodeRecord(rec)
		require.NoError(c.t, err)
		out[id] = string(b)
	}
	return out
}

func (c *syncCluster) policies() map[string]string { return c.family(etcdstore.FamilyPolicy) }

// keyVersions returns key -> etcd version (writes since creation) of a
// family.
func (c *syncCluster) keyVersions(family string) map[string]int64 {
	c.t.Helper()
	resp, err := c.cli.Get(syncCtx(c.t), syncKeys.Family(family), clientv3.WithPrefix())
	require.NoError(c.t, err)
	out := map[string]int64{}
	for _, kv := range resp.Kvs {
		out[string(kv.Key)] = kv.Version
	}
	return out
}

// lastModRevision is the newest ModRevision in a family.
func (c *syncCluster) lastModRevision(family string) int64 {
	c.t.Helper()
	resp, err := c.cli.Get(syncCtx(c.t), syncKeys.Family(family), clientv3.WithPrefix())
	require.NoError(c.t, err)
	var max int64
	for _, kv := range resp.Kvs {
		if kv.ModRevision > max {
			max = kv.ModRevision
		}
	}
	return max
}

// revision is the cluster's current revision: how many writes it took.
func (c *syncCluster) revision() int64 {
	c.t.Helper()
	resp, err := c.cli.Get(syncCtx(c.t), "\x00", clientv3.WithCountOnly())
	require.NoError(c.t, err)
	return resp.Header.Revision
}

// checkpoint is the source revision of peer last applied in c.
func (c *syncCluster) checkpoint(peer string) int64 {
	c.t.Helper()
	resp, err := c.cli.Get(syncCtx(c.t), syncPrefix+crosscluster.FamilyCheckpoint+peer)
	require.NoError(c.t, err)
	if len(resp.Kvs) == 0 {
		return 0
	}
	var n int64
	_, err = fmt.Sscan(string(resp.Kvs[0].Value), &n)
	require.NoError(c.t, err)
	return n
}

// syncConverged waits until every cluster holds the same records of family
// and, when want is not nil, exactly the ids in want.
func syncConverged(t testing.TB, family string, want []string, clusters ...*syncCluster) map[string]string {
	t.Helper()
	var last []map[string]string
	deadline := time.Now().Add(syncWait)
	for {
		last = last[:0]
		for _, c := range clusters {
			last = append(last, c.family(family))
		}
		ok := true
		for _, m := range last[1:] {
			ok = ok && equalMaps(m, last[0])
		}
		if ok && want != nil {
			ok = sameKeys(last[0], want)
		}
		if ok {
			return last[0]
		}
		if time.Now().After(deadline) {
			for i, c := range clusters {
				t.Logf("%s: %d records: %v", c.name, len(last[i]), sortedKeys(last[i]))
			}
			for i := 1; i < len(last); i++ {
				for k, v := range last[0] {
					if last[i][k] != v {
						t.Logf("differs %s: %s=%s vs %s=%s", k, clusters[0].name, v, clusters[i].name, last[i][k])
						break
					}
				}
			}
			t.Fatalf("%s did not converge in %v (want %d ids)", family, syncWait, len(want))
		}
		time.Sleep(syncPoll)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func sameKeys(m map[string]string, ids []string) bool {
	if len(m) != len(ids) {
		return false
	}
	for _, id := range ids {
		if _, ok := m[id]; !ok {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// syncAgent is one baldur-sync process.
type syncAgent struct {
	t       testing.TB
	name    string
	args    []string
	env     []string
	http    string
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	err  error // Wait's result, after done
}

// syncAgentFor starts the agent of c with every other cluster as a peer.
func syncAgentFor(t testing.TB, c *syncCluster, all []*syncCluster, extra ...string) *syncAgent {
	t.Helper()
	return syncAgentForEnv(t, c, all, nil, extra...)
}

// syncAgentForEnv is syncAgentFor with extra environment variables.
func syncAgentForEnv(t testing.TB, c *syncCluster, all []*syncCluster, env []string, extra ...string) *syncAgent {
	t.Helper()
	args := []string{"--cluster", c.name, "--etcd-endpoints", c.clientURL}
	for _, p := range all {
		if p != c {
			args = append(args, "--peer", p.name+"="+p.clientURL)
		}
	}
	return syncStartAgent(t, c.name, append(args, extra...), env)
}

// syncStartAgent starts the binary with args plus an HTTP address of its
// own, and waits until /readyz answers 200.
func syncStartAgent(t testing.TB, name string, args, env []string) *syncAgent {
	t.Helper()
	port, err := embedetcd.FreePort()
	require.NoError(t, err)
	a := &syncAgent{
		t: t, name: name, env: env,
		http:    fmt.Sprintf("127.0.0.1:%d", port),
		logPath: filepath.Join(t.TempDir(), name+".log"),
	}
	a.args = append(append([]string{}, args...), "--http-addr", a.http, "--log-level", "info")
	t.Cleanup(func() {
		a.kill9()
		if t.Failed() {
			a.dumpLog(60)
		}
	})
	a.start()
	a.waitReady()
	return a
}

func (a *syncAgent) start() {
	a.t.Helper()
	f, err := os.OpenFile(a.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	require.NoError(a.t, err)
	cmd := exec.Command(syncBin, a.args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), a.env...)
	require.NoError(a.t, cmd.Start(), "start agent %s", a.name)
	done := make(chan struct{})
	a.mu.Lock()
	a.cmd, a.done = cmd, done
	a.mu.Unlock()
	go func() {
		err := cmd.Wait()
		_ = f.Close()
		a.mu.Lock()
		a.err = err
		a.mu.Unlock()
		close(done)
	}()
}

// running reports whether the process is still up.
func (a *syncAgent) running() bool {
	a.mu.Lock()
	done := a.done
	a.mu.Unlock()
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// kill9 sends SIGKILL and waits for the process; a no-op when it is gone.
func (a *syncAgent) kill9() {
	a.mu.Lock()
	cmd, done := a.cmd, a.done
	a.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// term sends SIGTERM and returns the exit code.
func (a *syncAgent) term() int {
	a.t.Helper()
	a.mu.Lock()
	cmd, done := a.cmd, a.done
	a.mu.Unlock()
	require.NoError(a.t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-done:
	case <-time.After(syncWait):
		a.t.Fatalf("agent %s did not exit within %v of SIGTERM", a.name, syncWait)
	}
	return cmd.ProcessState.ExitCode()
}

func (a *syncAgent) get(path string) (int, string, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + a.http + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func (a *syncAgent) waitReady() {
	a.t.Helper()
	deadline := time.Now().Add(syncWait)
	for {
		code, body, err := a.get("/readyz")
		if err == nil && code == http.StatusOK {
			return
		}
		if !a.running() {
			a.dumpLog(60)
			a.t.Fatalf("agent %s exited before it was ready: %v", a.name, a.err)
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("agent %s not ready after %v: %d %s %v", a.name, syncWait, code, body, err)
		}
		time.Sleep(syncPoll)
	}
}

// syncStatus mirrors the agent's /status body.
type syncStatus struct {
	Cluster string `json:"cluster"`
	Ready   bool   `json:"ready"`
	Peers   []struct {
		Name       string `json:"name"`
		Connected  bool   `json:"connected"`
		Checkpoint int64  `json:"checkpoint"`
		Replicated uint64 `json:"replicated"`
		Errors     uint64 `json:"errors"`
		Resyncs    uint64 `json:"resyncs"`
		Skipped    uint64 `json:"skipped"`
		LastError  string `json:"last_error"`
	} `json:"peers"`
	Consul *struct {
		Imported  uint64            `json:"imported"`
		Unchanged uint64            `json:"unchanged"`
		Invalid   map[string]string `json:"invalid"`
		LastError string            `json:"last_error"`
	} `json:"consul"`
}

func (a *syncAgent) status() syncStatus {
	a.t.Helper()
	code, body, err := a.get("/status")
	require.NoError(a.t, err)
	require.Equal(a.t, http.StatusOK, code, body)
	var st syncStatus
	require.NoError(a.t, json.Unmarshal([]byte(body), &st), body)
	return st
}

func (a *syncAgent) metrics() string {
	a.t.Helper()
	code, body, err := a.get("/metrics")
	require.NoError(a.t, err)
	require.Equal(a.t, http.StatusOK, code)
	return body
}

func (a *syncAgent) logText() string {
	b, _ := os.ReadFile(a.logPath)
	return string(b)
}

func (a *syncAgent) dumpLog(lines int) {
	f, err := os.Open(a.logPath)
	if err != nil {
		return
	}
	defer f.Close()
	var all []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		all = append(all, sc.Text())
	}
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	a.t.Logf("--- last %d log lines of agent %s ---\n%s", len(all), a.name, strings.Join(all, "\n"))
}

// syncEventually polls cond until it holds or syncWait passes.
func syncEventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(syncWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, syncWait)
		}
		time.Sleep(syncPoll)
	}
}
