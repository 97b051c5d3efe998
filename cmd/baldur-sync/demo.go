package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/crosscluster"
	"github.com/baldur-go/baldur/etcdstore"
	"github.com/baldur-go/baldur/internal/embedetcd"
)

// demoClusters are the demo's clusters, in print order.
var demoClusters = []string{"east", "west", "central"}

// demoTimeout bounds each wait of the demo.
const demoTimeout = 15 * time.Second

// demoCluster is one cluster of the demo: its etcd, its agent, its workflow.
type demoCluster struct {
	name  string
	etcd  *embedetcd.Server
	agent *Agent
	svc   *crosscluster.Service
	store *etcdstore.Store
}

// runDemo starts three clusters in this process, each with an embedded etcd
// and an agent replicating from the other two, and walks a policy and a
// propagation request through them.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("baldur-sync demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.Bool("keep", false, "stay up after the walk-through until SIGINT or SIGTERM")
	logLevel := fs.String("log-level", "error", "level of the agents' logs on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	log, err := newLogger(*logLevel, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "baldur-sync demo:", err)
		return exitUsage
	}
	if err := demo(ctx, stdout, log, *keep); err != nil {
		fmt.Fprintln(stderr, "baldur-sync demo:", err)
		return exitFailure
	}
	return exitOK
}

func demo(ctx context.Context, out io.Writer, log *zap.Logger, keep bool) (err error) {
	start := time.Now()
	dir, err := os.MkdirTemp("", "baldur-sync-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintln(out, "baldur-sync demo: three clusters in one process, each with its own embedded etcd,")
	fmt.Fprintln(out, "and one agent per cluster replicating from the other two (full mesh).")
	fmt.Fprintln(out)

	var quiet atomic.Bool
	clusters, err := startDemoClusters(ctx, dir, log, &quiet)
	defer func() {
		quiet.Store(true)
		for _, c := range clusters {
			if c.store != nil {
				_ = c.store.Close()
			}
			if c.agent != nil {
				c.agent.Close()
			}
		}
		for _, c := range clusters {
			if c.etcd != nil {
				c.etcd.Close()
			}
		}
	}()
	if err != nil {
		return err
	}
	for _, c := range clusters {
		fmt.Fprintf(out, "  %-8s etcd %s   agent http://%s/status\n", c.name, c.etcd.ClientURL(), c.agent.HTTPAddr())
	}
	if err := waitReady(ctx, clusters); err != nil {
		return err
	}
	fmt.Fprintf(out, "  all agents ready after %s\n\n", round(time.Since(start)))

	east, west, central := clusters[0], clusters[1], clusters[2]

	// Step 1: a governance policy written in east reaches west and central.
	policy := crosscluster.Policy{
		ID:         "circuit-breaker-limits",
		ConfigType: "circuit_breaker",
		Rules:      []crosscluster.Rule{{Field: "failure_threshold", Min: ptr(1.0), Max: ptr(50.0)}},
		Version:    1,
		CreatedBy:  "demo",
	}
	fmt.Fprintf(out, "[1] governance policy %q (version %d) written in east\n", policy.ID, policy.Version)
	key := etcdstore.NewKeys(DefaultPrefix).Policy(policy.ID)
	arrivals := watchArrival(ctx, []*demoCluster{west, central}, key, func(r baldur.Record) bool {
		return baldur.VersionOf(r) == policy.Version
	})
	t0 := time.Now()
	if err := east.svc.SavePolicy(ctx, policy); err != nil {
		return fmt.Errorf("save policy in east: %w", err)
	}
	for _, a := range arrivals {
		res := <-a
		if res.err != nil {
			return res.err
		}
		fmt.Fprintf(out, "    arrived in %-8s after %s\n", res.cluster, round(res.at.Sub(t0)))
	}
	got, err := central.svc.Policies(ctx, "circuit_breaker")
	if err != nil {
		return err
	}
	ok, violations, err := central.svc.ValidateConfig(ctx, "circuit_breaker", map[string]any{"failure_threshold": 80})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "    central now has %d circuit_breaker policy; failure_threshold=80 valid there: %v %v\n\n", len(got), ok, violations)

	// Step 2: a propagation request from east to west, approved and applied
	// in west; the status flows back to east.
	base := fmt.Sprintf("demo-%d", time.Now().Unix())
	id := crosscluster.RequestID(base, "west")
	reqKey := etcdstore.NewKeys(DefaultPrefix).Request(id)
	fmt.Fprintf(out, "[2] propagation request %q created in east for west\n", id)
	change := crosscluster.ConfigChange{
		ConfigType: "circuit_breaker", PreviousValue: map[string]any{"failure_threshold": 5},
		NewValue: map[string]any{"failure_threshold": 10}, ChangedBy: "demo", Reason: "raise the threshold everywhere",
	}
	arrivals = watchArrival(ctx, []*demoCluster{west}, reqKey, func(r baldur.Record) bool {
		return r["status"] == crosscluster.StatusPendingApproval
	})
	t0 = time.Now()
	if _, err := east.svc.CreateRequests(ctx, base, []string{"west"}, change); err != nil {
		return fmt.Errorf("create request in east: %w", err)
	}
	res := <-arrivals[0]
	if res.err != nil {
		return res.err
	}
	fmt.Fprintf(out, "    east:    status %s\n", crosscluster.StatusPendingApproval)
	fmt.Fprintf(out, "    west:    arrived after %s, status %s\n", round(res.at.Sub(t0)), crosscluster.StatusPendingApproval)

	backHome := watchArrival(ctx, []*demoCluster{east, central}, reqKey, func(r baldur.Record) bool {
		return r["status"] == crosscluster.StatusApplied
	})
	t0 = time.Now()
	rec, err := west.svc.Approve(ctx, id, "operator-west", func(_ context.Context, r baldur.Record) error {
		cc, _ := r["config_change"].(map[string]any)
		fmt.Fprintf(out, "    west:    approved by operator-west; applying %v = %v\n", cc["config_type"], cc["new_value"])
		return nil
	})
	if err != nil {
		return fmt.Errorf("approve in west: %w", err)
	}
	fmt.Fprintf(out, "    west:    status %s\n", rec["status"])
	for _, a := range backHome {
		res := <-a
		if res.err != nil {
			return res.err
		}
		fmt.Fprintf(out, "    %-8s status %s, after %s\n", res.cluster+":", crosscluster.StatusApplied, round(res.at.Sub(t0)))
	}
	fmt.Fprintln(out)

	for _, c := range clusters {
		st := c.agent.Status()
		for _, p := range st.Peers {
			fmt.Fprintf(out, "    agent %-8s <- %-8s replicated %d, checkpoint %d, errors %d\n", c.name, p.Name, p.Replicated, p.Checkpoint, p.Errors)
		}
	}
	fmt.Fprintf(out, "\ndemo finished in %s\n", round(time.Since(start)))
	if keep {
		fmt.Fprintln(out, "--keep: the clusters stay up; press Ctrl-C to stop")
		<-ctx.Done()
	}
	return nil
}

func startDemoClusters(ctx context.Context, dir string, log *zap.Logger, quiet *atomic.Bool) ([]*demoCluster, error) {
	clusters := make([]*demoCluster, len(demoClusters))
	errs := make([]error, len(demoClusters))
	var wg sync.WaitGroup
	for i, name := range demoClusters {
		clusters[i] = &demoCluster{name: name}
		wg.Add(1)
		go func() {
			defer wg.Done()
			clusters[i].etcd, errs[i] = embedetcd.Start(ctx, embedetcd.Config{
				Name:   name,
				Dir:    filepath.Join(dir, name),
				Logger: quietLogger(atLeast(log.Named("etcd"), zapcore.ErrorLevel), quiet),
			})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return clusters, err
	}
	for _, c := range clusters {
		cfg := DefaultConfig()
		cfg.Cluster = c.name
		cfg.Etcd.Endpoints = c.etcd.Endpoints()
		cfg.HTTPAddr = "127.0.0.1:0"
		for _, p := range clusters {
			if p != c {
				cfg.Peers = append(cfg.Peers, PeerConfig{Name: p.name, EtcdConfig: EtcdConfig{Endpoints: p.etcd.Endpoints()}})
			}
		}
		if err := cfg.Validate(); err != nil {
			return clusters, err
		}
		a, err := StartAgent(ctx, cfg, log.Named(c.name))
		if err != nil {
			return clusters, fmt.Errorf("agent %s: %w", c.name, err)
		}
		c.agent = a
		if c.store, err = etcdstore.New(a.Local(), etcdstore.WithPrefix(cfg.Prefix)); err != nil {
			return clusters, err
		}
		if c.svc, err = crosscluster.NewService(c.store.CrossCluster(), c.name, crosscluster.WithLogger(log.Named(c.name))); err != nil {
			return clusters, err
		}
	}
	return clusters, nil
}

func waitReady(ctx context.Context, clusters []*demoCluster) error {
	ctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	connected := func(c *demoCluster) bool {
		if !c.agent.Replicator().Ready() {
			return false
		}
		for _, p := range c.agent.Replicator().Status() {
			if !p.Connected {
				return false
			}
		}
		return true
	}
	for _, c := range clusters {
		for !connected(c) {
			if !sleep(ctx, 10*time.Millisecond) {
				return fmt.Errorf("agent %s not ready: %w", c.name, ctx.Err())
			}
		}
	}
	// A watch that starts at a past revision (the agents' first writes
	// moved every cluster's revision after the initial list) is caught up
	// by etcd's background loop, which runs every 100 ms; until then its
	// events wait for that loop. Give it one round so the latencies below
	// are the steady state, not the start-up.
	if !sleep(ctx, 250*time.Millisecond) {
		return ctx.Err()
	}
	return nil
}

type arrival struct {
	cluster string
	at      time.Time
	err     error
}

// watchArrival watches key in each cluster (the watch is open when it
// returns) and reports when a value satisfying ok lands there.
func watchArrival(ctx context.Context, clusters []*demoCluster, key string, ok func(baldur.Record) bool) []chan arrival {
	out := make([]chan arrival, len(clusters))
	var ready sync.WaitGroup
	for i, c := range clusters {
		ch := make(chan arrival, 1)
		out[i] = ch
		ready.Add(1)
		go func() {
			ctx, cancel := context.WithTimeout(ctx, demoTimeout)
			defer cancel()
			wch := c.agent.Local().Watch(clientv3.WithRequireLeader(ctx), key, clientv3.WithCreatedNotify())
			first, open := <-wch // the created notification: the watch is in place
			ready.Done()
			if !open || first.Err() != nil {
				ch <- arrival{cluster: c.name, err: fmt.Errorf("%s: watch %s: %v", c.name, key, first.Err())}
				return
			}
			for resp := range wch {
				for _, ev := range resp.Events {
					if ev.Type != clientv3.EventTypePut {
						continue
					}
					rec, err := baldur.DecodeRecord(ev.Kv.Value)
					if err == nil && ok(rec) {
						ch <- arrival{cluster: c.name, at: time.Now()}
						return
					}
				}
			}
			ch <- arrival{cluster: c.name, err: fmt.Errorf("%s: %s did not arrive: %w", c.name, key, context.Cause(ctx))}
		}()
	}
	ready.Wait()
	return out
}

func ptr[T any](v T) *T { return &v }

func round(d time.Duration) time.Duration {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond)
	case d < time.Second:
		return d.Round(100 * time.Microsecond)
	default:
		return d.Round(10 * time.Millisecond)
	}
}
