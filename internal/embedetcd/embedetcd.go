package embedetcd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
	"time"

	"go.etcd.io/etcd/pkg/v3/featuregate"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/features"
	"go.uber.org/zap"
)

// DefaultStartTimeout bounds how long Start waits for the member to become
// ready when Config.StartTimeout is zero.
const DefaultStartTimeout = 60 * time.Second

// FeatureGates is the server feature-gate setting Start applies: lease
// checkpointing, so that a lease keeps its remaining TTL across a leader
// change instead of being reset to its full TTL (see CONTRACT.md).
const FeatureGates = "LeaseCheckpoint=true,LeaseCheckpointPersist=true"

// autoPortAttempts is how many times Start picks fresh ports when a port it
// chose itself was taken by someone else between the pick and the bind.
const autoPortAttempts = 5

// ErrInvalidConfig is returned by Start for a Config it cannot use.
var ErrInvalidConfig = errors.New("embedetcd: invalid config")

// Config describes one embedded etcd member.
type Config struct {
	// Name is the member name; optional, defaults to "default".
	Name string
	// Dir is the data directory; required.
	Dir string
	// ClientURL is the URL clients connect to, such as
	// "http://127.0.0.1:2379"; optional, "" picks a free loopback port.
	ClientURL string
	// PeerURL is the URL other members connect to; optional, "" picks a free
	// loopback port.
	PeerURL string
	// InitialCluster is the static bootstrap list "name=peerURL,...";
	// optional, defaults to this member alone.
	InitialCluster string
	// ClusterState is "new" or "existing"; optional, defaults to "new". A
	// restarted member reads its membership from Dir and ignores both.
	ClusterState string
	// ClusterToken is the initial cluster token; optional, defaults to
	// etcd's "etcd-cluster". Members of one cluster must agree on it.
	ClusterToken string
	// Logger receives etcd's logs; optional, defaults to zap.NewNop().
	Logger *zap.Logger

	// HeartbeatInterval and ElectionTimeout are raft timings; optional, zero
	// keeps etcd's defaults (100 ms and 1 s). Tests may shorten them.
	HeartbeatInterval time.Duration
	ElectionTimeout   time.Duration
	// StartTimeout bounds the wait for readiness; optional, defaults to
	// DefaultStartTimeout.
	StartTimeout time.Duration
	// UnsafeNoFsync disables fsync in etcd. Only for tests whose data does
	// not have to survive a machine crash; never in production.
	UnsafeNoFsync bool
	// Configure, when set, is called on the embed.Config last, after every
	// other field was applied; an escape hatch for settings not listed here.
	Configure func(*embed.Config)
}

// Server is a running embedded etcd member.
type Server struct {
	etcd      *embed.Etcd
	clientURL string
	peerURL   string
	cfg       Config
}

// Start starts a member and waits until it is ready to serve clients, until
// ctx is done, or until the start timeout, whichever comes first. A member of
// a multi-member cluster only becomes ready once a quorum of its peers runs,
// so start the members of a new cluster concurrently.
//
// When Start picked a port itself and another process took it before etcd
// bound it, Start picks again (a few times); ports given in Config are used
// as given.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("%w: Dir is required", ErrInvalidConfig)
	}
	if cfg.HeartbeatInterval < 0 || cfg.ElectionTimeout < 0 || cfg.StartTimeout < 0 {
		return nil, fmt.Errorf("%w: negative duration", ErrInvalidConfig)
	}
	auto := cfg.ClientURL == "" || cfg.PeerURL == ""
	var lastErr error
	for attempt := 0; attempt < autoPortAttempts; attempt++ {
		s, err := start(ctx, cfg)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !auto || !errors.Is(err, syscall.EADDRINUSE) || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, cfg Config) (*Server, error) {
	clientURL, err := urlOrFree(cfg.ClientURL)
	if err != nil {
		return nil, err
	}
	peerURL, err := urlOrFree(cfg.PeerURL)
	if err != nil {
		return nil, err
	}
	cu, err := url.Parse(clientURL)
	if err != nil {
		return nil, fmt.Errorf("%w: client URL %q: %v", ErrInvalidConfig, clientURL, err)
	}
	pu, err := url.Parse(peerURL)
	if err != nil {
		return nil, fmt.Errorf("%w: peer URL %q: %v", ErrInvalidConfig, peerURL, err)
	}

	ec := embed.NewConfig()
	if cfg.Name != "" {
		ec.Name = cfg.Name
	}
	ec.Dir = cfg.Dir
	ec.ListenClientUrls = []url.URL{*cu}
	ec.AdvertiseClientUrls = []url.URL{*cu}
	ec.ListenPeerUrls = []url.URL{*pu}
	ec.AdvertisePeerUrls = []url.URL{*pu}
	ec.InitialCluster = cfg.InitialCluster
	if ec.InitialCluster == "" {
		ec.InitialCluster = ec.Name + "=" + peerURL
	}
	if cfg.ClusterState != "" {
		ec.ClusterState = cfg.ClusterState
	}
	if cfg.ClusterToken != "" {
		ec.InitialClusterToken = cfg.ClusterToken
	}
	if cfg.HeartbeatInterval > 0 {
		ec.TickMs = uint(cfg.HeartbeatInterval / time.Millisecond)
	}
	if cfg.ElectionTimeout > 0 {
		ec.ElectionMs = uint(cfg.ElectionTimeout / time.Millisecond)
	}
	ec.UnsafeNoFsync = cfg.UnsafeNoFsync
	lg := cfg.Logger
	if lg == nil {
		lg = zap.NewNop()
	}
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(lg)
	gates, ok := features.NewDefaultServerFeatureGate(ec.Name, lg).(featuregate.MutableFeatureGate)
	if !ok {
		return nil, fmt.Errorf("embedetcd: etcd's server feature gate is not mutable")
	}
	if err := gates.Set(FeatureGates); err != nil {
		return nil, fmt.Errorf("embedetcd: feature gates %q: %w", FeatureGates, err)
	}
	ec.ServerFeatureGate = gates
	if cfg.Configure != nil {
		cfg.Configure(ec)
	}

	e, err := embed.StartEtcd(ec)
	if err != nil { // StartEtcd closed what it had started
		return nil, fmt.Errorf("embedetcd: start member %q: %w", ec.Name, err)
	}
	timeout := cfg.StartTimeout
	if timeout == 0 {
		timeout = DefaultStartTimeout
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		abort(e)
		return nil, fmt.Errorf("embedetcd: member %q failed while starting: %w", ec.Name, err)
	case <-ctx.Done():
		abort(e)
		return nil, fmt.Errorf("embedetcd: member %q not ready: %w", ec.Name, ctx.Err())
	case <-timer.C:
		abort(e)
		return nil, fmt.Errorf("embedetcd: member %q not ready after %v", ec.Name, timeout)
	}
	return &Server{etcd: e, clientURL: clientURL, peerURL: peerURL, cfg: cfg}, nil
}

// Endpoints returns the client URLs to give clientv3.Config.Endpoints.
func (s *Server) Endpoints() []string { return []string{s.clientURL} }

// ClientURL returns the URL clients connect to.
func (s *Server) ClientURL() string { return s.clientURL }

// PeerURL returns the URL other members connect to.
func (s *Server) PeerURL() string { return s.peerURL }

// Name returns the member name.
func (s *Server) Name() string { return s.etcd.Config().Name }

// Dir returns the data directory.
func (s *Server) Dir() string { return s.cfg.Dir }

// Etcd returns the underlying embedded server, for what this package does
// not wrap (member id, raft status, ...).
func (s *Server) Etcd() *embed.Etcd { return s.etcd }

// Close stops the member gracefully: a leader hands its leadership to a peer
// first. It waits until every goroutine of the server has exited.
func (s *Server) Close() {
	s.etcd.Close()
}

// HardStop stops the member abruptly, the way a crash looks to its peers: the
// raft node stops at once, without handing over leadership, then the
// listeners close. The data directory is kept, so a Start with the same Dir
// and URLs brings the member back.
func (s *Server) HardStop() {
	s.etcd.Server.HardStop()
	s.etcd.Close()
}

// abort stops a member that never became ready. embed.Etcd.Close alone
// would wait forever for the client servers, which only start once the
// member is ready; stopping the raft node first releases them.
func abort(e *embed.Etcd) {
	e.Server.HardStop()
	e.Close()
}

// urlOrFree returns u, or an http URL on a free loopback port when u is "".
func urlOrFree(u string) (string, error) {
	if u != "" {
		return u, nil
	}
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port), nil
}

// FreePort returns a loopback TCP port that was free a moment ago: it listens
// on 127.0.0.1:0 and closes the listener. Someone else may take the port
// before the caller binds it; callers retry on EADDRINUSE.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("embedetcd: pick a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("embedetcd: pick a free port: %w", err)
	}
	return port, nil
}
