package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/baldur-go/baldur/internal/embedetcd"
)

// StartTimeout bounds every start and restart of a member or cluster.
const StartTimeout = 60 * time.Second

// startAttempts is how often a start is retried with fresh ports when a
// freshly picked port was taken between the pick and etcd's bind.
const startAttempts = 5

// Option adjusts the embedetcd.Config of every member a helper starts.
type Option func(*embedetcd.Config)

// WithFsync turns fsync back on. The helpers run etcd with UnsafeNoFsync by
// default: the tests are about semantics, the data need not survive a crash
// of the machine, and fsync latency on a shared disk would dominate their
// run time. Benchmarks that publish figures use WithFsync.
func WithFsync() Option { return func(c *embedetcd.Config) { c.UnsafeNoFsync = false } }

// WithConfig applies fn to each member's config, after the helper's own
// settings.
func WithConfig(fn func(*embedetcd.Config)) Option { return Option(fn) }

// Member is one embedded etcd member and a client connected to it alone.
type Member struct {
	Name      string
	Dir       string
	ClientURL string
	PeerURL   string
	// Client talks to this member only. It survives Stop and Restart: the
	// client reconnects once the member is back.
	Client *clientv3.Client

	tb      testing.TB
	cfg     embedetcd.Config
	mu      sync.Mutex
	server  *embedetcd.Server // nil while stopped
	stopped bool
}

// NewMember starts a single-member cluster on free loopback ports with its
// data in t.TempDir(), waits until it serves, and connects a client. Both are
// closed by t.Cleanup.
func NewMember(t testing.TB, opts ...Option) *Member {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < startAttempts; attempt++ {
		m, err := newMembers(t, 1, opts)
		if err == nil {
			m[0].connect()
			return m[0]
		}
		lastErr = err
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	t.Fatalf("etcdtest: start member: %v", lastErr)
	return nil
}

// Endpoints returns the member's client URL.
func (m *Member) Endpoints() []string { return []string{m.ClientURL} }

// Server returns the running server, or nil while the member is stopped.
func (m *Member) Server() *embedetcd.Server {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.server
}

// Stop hard-stops the member (no leadership hand-over) and keeps its data
// directory. Stopping a stopped member does nothing.
func (m *Member) Stop() {
	m.tb.Helper()
	m.mu.Lock()
	srv := m.server
	m.server = nil
	m.mu.Unlock()
	if srv != nil {
		srv.HardStop()
	}
}

// Restart starts a stopped member again with the same name, data directory
// and ports, and waits until it serves. A member of a cluster serves once it
// rejoined a quorum.
func (m *Member) Restart() {
	m.tb.Helper()
	if err := m.restart(); err != nil {
		m.tb.Fatalf("etcdtest: restart %s: %v", m.Name, err)
	}
}

func (m *Member) restart() error {
	m.mu.Lock()
	running := m.server != nil
	m.mu.Unlock()
	if running {
		return fmt.Errorf("member %s is running", m.Name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	var err error
	for attempt := 0; attempt < startAttempts; attempt++ {
		var srv *embedetcd.Server
		srv, err = embedetcd.Start(ctx, m.cfg)
		if err == nil {
			m.mu.Lock()
			m.server = srv
			m.mu.Unlock()
			return nil
		}
		// The same ports are required; if someone holds one, wait for it.
		if !errors.Is(err, syscall.EADDRINUSE) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

func (m *Member) connect() {
	m.tb.Helper()
	cli, err := newClient(m.tb, m.Endpoints())
	if err != nil {
		m.tb.Fatalf("etcdtest: client for %s: %v", m.Name, err)
	}
	m.Client = cli
}

func newClient(tb testing.TB, endpoints []string) (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: 10 * time.Second,
		Logger:      testLogger(tb),
	})
	if err != nil {
		return nil, err
	}
	tb.Cleanup(func() { _ = cli.Close() })
	return cli, nil
}

// newMembers picks ports and starts n members of one new cluster
// concurrently (a member of a new cluster is only ready once a quorum runs).
// On failure every member that started is closed again.
func newMembers(tb testing.TB, n int, opts []Option) ([]*Member, error) {
	root := tb.TempDir()
	members := make([]*Member, n)
	initial := ""
	for i := range members {
		cp, err := embedetcd.FreePort()
		if err != nil {
			return nil, err
		}
		pp, err := embedetcd.FreePort()
		if err != nil {
			return nil, err
		}
		m := &Member{
			Name:      fmt.Sprintf("m%d", i),
			Dir:       filepath.Join(root, fmt.Sprintf("m%d", i)),
			ClientURL: fmt.Sprintf("http://127.0.0.1:%d", cp),
			PeerURL:   fmt.Sprintf("http://127.0.0.1:%d", pp),
			tb:        tb,
		}
		members[i] = m
		if i > 0 {
			initial += ","
		}
		initial += m.Name + "=" + m.PeerURL
	}
	for _, m := range members {
		m.cfg = embedetcd.Config{
			Name:           m.Name,
			Dir:            m.Dir,
			ClientURL:      m.ClientURL,
			PeerURL:        m.PeerURL,
			InitialCluster: initial,
			ClusterState:   "new",
			ClusterToken:   fmt.Sprintf("etcdtest-%d", time.Now().UnixNano()),
			Logger:         testLogger(tb).Named(m.Name),
			StartTimeout:   StartTimeout,
			UnsafeNoFsync:  true,
		}
		for _, o := range opts {
			o(&m.cfg)
		}
	}
	token := members[0].cfg.ClusterToken
	for _, m := range members {
		m.cfg.ClusterToken = token
	}

	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			srv, err := embedetcd.Start(ctx, m.cfg)
			if err != nil {
				errs[i] = err
				cancel() // the others cannot reach a quorum: stop waiting
				return
			}
			m.server = srv
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, m := range members {
			if m.server != nil {
				m.server.Close()
			}
		}
		return nil, err
	}
	for _, m := range members {
		tb.Cleanup(m.Stop)
	}
	return members, nil
}
