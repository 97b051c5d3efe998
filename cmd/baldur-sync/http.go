package main

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// PeerStatusJSON is one peer in /status.
type PeerStatusJSON struct {
	Name        string     `json:"name"`
	Connected   bool       `json:"connected"`
	Checkpoint  int64      `json:"checkpoint"`
	Replicated  uint64     `json:"replicated"`
	Errors      uint64     `json:"errors"`
	Resyncs     uint64     `json:"resyncs"`
	Skipped     uint64     `json:"skipped"`
	LagSeconds  float64    `json:"lag_seconds"`
	LastError   string     `json:"last_error,omitempty"`
	LastApplied *time.Time `json:"last_applied,omitempty"`
}

// StatusJSON is the body of /status.
type StatusJSON struct {
	Cluster string            `json:"cluster"`
	Ready   bool              `json:"ready"`
	Peers   []PeerStatusJSON  `json:"peers"`
	Consul  *ConsulStatusJSON `json:"consul,omitempty"`
}

func (a *Agent) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{Registry: a.reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", a.serveReady)
	mux.HandleFunc("GET /status", a.serveStatus)
	return mux
}

// localReady asks the local etcd a linearizable question: it answers only
// with a quorum behind it.
func (a *Agent) localReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	_, err := a.local.Get(ctx, a.cfg.Prefix, clientv3.WithCountOnly(), clientv3.WithLimit(1))
	return err
}

func (a *Agent) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := a.localReady(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("local etcd not answering: " + err.Error() + "\n"))
		return
	}
	if !a.repl.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("replicator not ready\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// Status is the agent's state as /status reports it.
func (a *Agent) Status() StatusJSON {
	st := StatusJSON{Cluster: a.cfg.Cluster, Ready: a.repl.Ready(), Peers: []PeerStatusJSON{}}
	for _, p := range a.repl.Status() {
		ps := PeerStatusJSON{
			Name:       p.Peer,
			Connected:  p.Connected,
			Checkpoint: p.Checkpoint,
			Replicated: p.Replicated,
			Errors:     p.Errors,
			Resyncs:    p.Resyncs,
			Skipped:    p.Skipped,
			LagSeconds: p.Lag.Seconds(),
			LastError:  p.LastError,
		}
		if !p.LastApplied.IsZero() {
			t := p.LastApplied
			ps.LastApplied = &t
		}
		st.Peers = append(st.Peers, ps)
	}
	if a.imp != nil {
		cs := a.imp.status()
		st.Consul = &cs
	}
	return st
}

func (a *Agent) serveStatus(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(a.Status()); err != nil {
		a.log.Debug("write /status", zap.Error(err))
	}
}
