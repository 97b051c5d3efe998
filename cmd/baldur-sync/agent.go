package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/baldur-go/baldur/crosscluster"
	"github.com/baldur-go/baldur/etcdstore"
	"github.com/baldur-go/baldur/internal/embedetcd"
)

// Timeouts of the agent.
const (
	dialTimeout     = 5 * time.Second
	readyTimeout    = 2 * time.Second
	shutdownTimeout = 10 * time.Second
)

// Agent is one running baldur-sync: the local etcd client (and the embedded
// etcd when no endpoints are configured), one client per peer, the
// replicator, the optional Consul import and the HTTP endpoints. Close stops
// everything it started, in reverse order.
type Agent struct {
	cfg   Config
	log   *zap.Logger
	reg   *prometheus.Registry
	etcd  *embedetcd.Server // nil with external endpoints
	local *clientv3.Client
	peers []*clientv3.Client
	repl  *crosscluster.Replicator
	store *etcdstore.Store // the Consul import's store; nil without Consul
	imp   *consulImporter  // nil without Consul
	ln    net.Listener
	srv   *http.Server

	etcdQuiet atomic.Bool // set while the embedded etcd closes: its shutdown noise is dropped
	cancel    context.CancelFunc
	workers   sync.WaitGroup // the replicator and the Consul import
	serving   sync.WaitGroup // the HTTP server
	replErr   chan error     // the replicator's Run result, buffered
	closeOnce sync.Once
}

// StartAgent starts an agent for cfg (already validated). On error every
// part started so far is stopped again.
func StartAgent(ctx context.Context, cfg Config, log *zap.Logger) (_ *Agent, err error) {
	if log == nil {
		log = zap.NewNop()
	}
	a := &Agent{cfg: cfg, log: log, reg: prometheus.NewRegistry(), replErr: make(chan error, 1)}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	localCfg := cfg.Etcd
	if cfg.Embedded() {
		a.etcd, err = embedetcd.Start(ctx, embedetcd.Config{
			Name:      cfg.Cluster,
			Dir:       cfg.DataDir,
			ClientURL: cfg.Embed.ClientURL,
			PeerURL:   cfg.Embed.PeerURL,
			Logger:    quietLogger(atLeast(log.Named("etcd"), zapcore.WarnLevel), &a.etcdQuiet),
		})
		if err != nil {
			return nil, fmt.Errorf("start embedded etcd in %s: %w", cfg.DataDir, err)
		}
		localCfg.Endpoints = a.etcd.Endpoints()
		log.Info("embedded etcd started", zap.String("data_dir", cfg.DataDir),
			zap.String("client_url", a.etcd.ClientURL()), zap.String("peer_url", a.etcd.PeerURL()))
	}
	if a.local, err = newClient("etcd", localCfg, log); err != nil {
		return nil, err
	}
	peers := make([]crosscluster.Peer, 0, len(cfg.Peers))
	for i, p := range cfg.Peers {
		c, err := newClient(fmt.Sprintf("peers[%d]", i), p.EtcdConfig, log)
		if err != nil {
			return nil, err
		}
		a.peers = append(a.peers, c)
		peers = append(peers, crosscluster.Peer{Name: p.Name, Client: c})
	}
	if len(peers) == 0 {
		log.Warn("no peers configured: nothing to replicate")
	}
	a.repl, err = crosscluster.NewReplicator(a.local, cfg.Cluster, peers,
		crosscluster.WithPrefix(cfg.Prefix),
		crosscluster.WithLogger(log.Named("replicator")),
		crosscluster.WithRegisterer(a.reg))
	if err != nil {
		return nil, fmt.Errorf("replicator: %w", err)
	}
	if cfg.ConsulEnabled() {
		if a.store, err = etcdstore.New(a.local, etcdstore.WithPrefix(cfg.Prefix), etcdstore.WithLogger(log.Named("store"))); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		a.imp, err = newConsulImporter(cfg.Consul, a.store.CrossCluster(), a.reg, log.Named("consul"))
		if err != nil {
			return nil, err
		}
	}
	if a.ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("http_addr %s: %w", cfg.HTTPAddr, err)
	}
	a.srv = &http.Server{Handler: a.handler(), ReadHeaderTimeout: 5 * time.Second}

	runCtx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.workers.Add(1)
	go func() {
		defer a.workers.Done()
		a.replErr <- a.repl.Run(runCtx)
	}()
	if a.imp != nil {
		a.workers.Add(1)
		go func() {
			defer a.workers.Done()
			a.imp.run(runCtx)
		}()
	}
	a.serving.Add(1)
	go func() {
		defer a.serving.Done()
		if err := a.srv.Serve(a.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", zap.Error(err))
		}
	}()
	log.Info("baldur-sync started", zap.String("cluster", cfg.Cluster), zap.Strings("local", localCfg.Endpoints),
		zap.Int("peers", len(peers)), zap.String("http", a.ln.Addr().String()), zap.String("prefix", cfg.Prefix),
		zap.Bool("consul_import", a.imp != nil))
	return a, nil
}

// HTTPAddr is the address the HTTP endpoints listen on.
func (a *Agent) HTTPAddr() string { return a.ln.Addr().String() }

// Local is the client of the local etcd.
func (a *Agent) Local() *clientv3.Client { return a.local }

// Endpoints are the local etcd's client endpoints.
func (a *Agent) Endpoints() []string { return a.local.Endpoints() }

// Replicator is the agent's replicator.
func (a *Agent) Replicator() *crosscluster.Replicator { return a.repl }

// Failed yields the replicator's result if Run returns before Close (it
// only does on an error it cannot retry).
func (a *Agent) Failed() <-chan error { return a.replErr }

// Close stops the agent: the replicator finishes its in-flight transaction
// and returns, the Consul import stops, the HTTP server shuts down, then
// the etcd clients and the embedded etcd close. Safe to call twice.
func (a *Agent) Close() {
	a.closeOnce.Do(func() {
		if a.cancel != nil {
			a.cancel()
		}
		// The replicator commits its in-flight transaction before Run
		// returns; /healthz and /status keep answering meanwhile.
		a.workers.Wait()
		if a.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			if err := a.srv.Shutdown(ctx); err != nil {
				a.log.Warn("http shutdown", zap.Error(err))
				_ = a.srv.Close()
			}
			cancel()
		} else if a.ln != nil {
			_ = a.ln.Close()
		}
		a.serving.Wait()
		if a.store != nil {
			_ = a.store.Close()
		}
		for _, c := range a.peers {
			_ = c.Close()
		}
		if a.local != nil {
			_ = a.local.Close()
		}
		if a.etcd != nil {
			a.etcdQuiet.Store(true)
			a.etcd.Close()
		}
		a.log.Info("baldur-sync stopped", zap.String("cluster", a.cfg.Cluster))
	})
}

// newClient opens an etcd client without waiting for a connection: a peer
// that is down is the replicator's business (it retries with backoff), not a
// reason to refuse to start.
func newClient(field string, e EtcdConfig, log *zap.Logger) (*clientv3.Client, error) {
	var tlsCfg *tls.Config
	if e.TLS.enabled() {
		info := transport.TLSInfo{CertFile: e.TLS.Cert, KeyFile: e.TLS.Key, TrustedCAFile: e.TLS.CA}
		c, err := info.ClientConfig()
		if err != nil {
			return nil, configErr(field+".tls", "%v", err)
		}
		tlsCfg = c
	}
	c, err := clientv3.New(clientv3.Config{
		Endpoints:            e.Endpoints,
		TLS:                  tlsCfg,
		Username:             e.Username,
		Password:             e.Password,
		DialTimeout:          dialTimeout,
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: 5 * time.Second,
		Logger:               atLeast(log.Named("etcdclient"), zapcore.ErrorLevel),
	})
	if err != nil {
		return nil, fmt.Errorf("%s: etcd client for %v: %w", field, e.Endpoints, err)
	}
	return c, nil
}

// quietLogger drops every entry below DPanic while quiet is set: etcd logs
// its listeners closing at error level when it is stopped on purpose.
func quietLogger(l *zap.Logger, quiet *atomic.Bool) *zap.Logger {
	return l.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return quietCore{Core: c, quiet: quiet} }))
}

type quietCore struct {
	zapcore.Core
	quiet *atomic.Bool
}

func (c quietCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.quiet.Load() && e.Level < zapcore.DPanicLevel {
		return ce
	}
	return c.Core.Check(e, ce)
}

func (c quietCore) With(fields []zapcore.Field) zapcore.Core {
	return quietCore{Core: c.Core.With(fields), quiet: c.quiet}
}

// atLeast raises l's level to lvl; a logger already stricter stays as is.
func atLeast(l *zap.Logger, lvl zapcore.Level) *zap.Logger {
	if !l.Core().Enabled(lvl) {
		return l
	}
	return l.WithOptions(zap.IncreaseLevel(lvl))
}
