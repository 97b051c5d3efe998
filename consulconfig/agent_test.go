package consulconfig

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// consulBin finds the agent the tests run against: $BALDUR_CONSUL_BIN
// (the Makefile exports it), else <module root>/bin/consul. A missing agent
// fails the test: it is a missing dependency, not a reason to skip.
func consulBin(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("BALDUR_CONSUL_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("BALDUR_CONSUL_BIN=%s: %v; run `make consul` to build the Consul agent", p, err)
		}
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test directory; run `make consul` and set BALDUR_CONSUL_BIN")
		}
		dir = parent
	}
	p := filepath.Join(dir, "bin", "consul")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("Consul agent not found at %s (%v): run `make consul` to build it", p, err)
	}
	return p
}

// agent is a real `consul agent -dev` on free loopback ports. It keeps its
// ports across restarts; in dev mode its data lives in memory, so a
// restart starts over with an empty KV store and a low index.
type agent struct {
	t       testing.TB
	bin     string
	ports   [5]int // http, serf lan, serf wan, server, https
	logPath string
	extra   []string // more agent flags
	cmd     *exec.Cmd
	exited  chan struct{}
	client  *api.Client
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startAgent starts an agent, waits for its leader and stops it in
// t.Cleanup. extra returns more flags, given the agent (for its ports).
func startAgent(t testing.TB, extra ...func(*agent) []string) *agent {
	t.Helper()
	a := &agent{t: t, bin: consulBin(t), logPath: filepath.Join(t.TempDir(), "consul.log")}
	seen := map[int]bool{}
	for i := range a.ports {
		for {
			p := freePort(t)
			if !seen[p] {
				seen[p] = true
				a.ports[i] = p
				break
			}
		}
	}
	for _, f := range extra {
		a.extra = append(a.extra, f(a)...)
	}
	cfg := api.DefaultConfig()
	cfg.Address = a.Addr()
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.client = c
	t.Cleanup(func() {
		a.Stop()
		cfg.HttpClient.CloseIdleConnections()
		if t.Failed() {
			if b, err := os.ReadFile(a.logPath); err == nil {
				if len(b) > 4000 {
					b = b[len(b)-4000:]
				}
				t.Logf("consul agent log (tail):\n%s", b)
			}
		}
	})
	a.Start()
	return a
}

// Addr is the agent's HTTP address.
func (a *agent) Addr() string { return "127.0.0.1:" + strconv.Itoa(a.ports[0]) }

// Start starts the agent on its ports and waits until it has a leader.
func (a *agent) Start() {
	a.t.Helper()
	logf, err := os.OpenFile(a.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		a.t.Fatal(err)
	}
	defer logf.Close()
	a.cmd = exec.Command(a.bin, "agent", "-dev",
		"-bind", "127.0.0.1", "-client", "127.0.0.1",
		"-node", fmt.Sprintf("baldur-test-%d", a.ports[0]),
		"-http-port", strconv.Itoa(a.ports[0]),
		"-serf-lan-port", strconv.Itoa(a.ports[1]),
		"-serf-wan-port", strconv.Itoa(a.ports[2]),
		"-server-port", strconv.Itoa(a.ports[3]),
		"-dns-port", "-1", "-grpc-port", "-1", "-grpc-tls-port", "-1",
		"-log-level", "warn",
	)
	a.cmd.Args = append(a.cmd.Args, a.extra...)
	a.cmd.Stdout, a.cmd.Stderr = logf, logf // files: no copying goroutines
	if err := a.cmd.Start(); err != nil {
		a.t.Fatalf("start consul agent %s: %v", a.bin, err)
	}
	a.exited = make(chan struct{})
	cmd, exited := a.cmd, a.exited
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		leader, err := a.client.Status().Leader()
		if err == nil && leader != "" {
			return
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(a.logPath)
			a.t.Fatalf("consul agent exited at start: %s", bytes.TrimSpace(b))
		default:
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("consul agent on %s has no leader after 60s (last error: %v)", a.Addr(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the agent (a hard stop, as a crash) and waits for it to exit.
func (a *agent) Stop() {
	if a.cmd == nil {
		return
	}
	_ = a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.exited
	a.cmd = nil
}

// Put writes a key.
func (a *agent) Put(key, value string) {
	a.t.Helper()
	if _, err := a.client.KV().Put(&api.KVPair{Key: key, Value: []byte(value)}, nil); err != nil {
		a.t.Fatalf("put %s: %v", key, err)
	}
}

// Delete removes a key.
func (a *agent) Delete(key string) {
	a.t.Helper()
	if _, err := a.client.KV().Delete(key, nil); err != nil {
		a.t.Fatalf("delete %s: %v", key, err)
	}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
