package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Cluster is a statically bootstrapped cluster of embedded members.
type Cluster struct {
	Members []*Member
	tb      testing.TB
	client  *clientv3.Client
}

// NewCluster starts n members on free loopback ports, each with its data in
// t.TempDir(), waits until every member serves and a leader is elected, and
// connects one client per member plus one with every endpoint. Everything is
// closed by t.Cleanup.
func NewCluster(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("etcdtest: cluster of %d members", n)
	}
	var (
		members []*Member
		err     error
	)
	for attempt := 0; attempt < startAttempts; attempt++ {
		members, err = newMembers(t, n, opts)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	if err != nil {
		t.Fatalf("etcdtest: start %d-member cluster: %v", n, err)
	}
	c := &Cluster{Members: members, tb: t}
	for _, m := range members {
		m.connect()
	}
	c.client, err = newClient(t, c.Endpoints())
	if err != nil {
		t.Fatalf("etcdtest: cluster client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatalf("etcdtest: %v", err)
	}
	return c
}

// Client returns a client with every member's endpoint; it fails over when
// a member stops.
func (c *Cluster) Client() *clientv3.Client { return c.client }

// NewClient returns a new client with every member's endpoint, closed by
// t.Cleanup; for tests that want one connection per simulated process.
func (c *Cluster) NewClient(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := newClient(t, c.Endpoints())
	if err != nil {
		t.Fatalf("etcdtest: cluster client: %v", err)
	}
	return cli
}

// Endpoints returns every member's client URL.
func (c *Cluster) Endpoints() []string {
	eps := make([]string, len(c.Members))
	for i, m := range c.Members {
		eps[i] = m.ClientURL
	}
	return eps
}

// Leader returns the index of the leader when every running member agrees
// on one and it is running itself, else -1. It does not wait.
func (c *Cluster) Leader() int {
	lead := uint64(0)
	leader := -1
	for i, m := range c.Members {
		srv := m.Server()
		if srv == nil {
			continue
		}
		es := srv.Etcd().Server
		l := es.Lead()
		if l == 0 || (lead != 0 && l != lead) {
			return -1
		}
		lead = l
		if uint64(es.MemberID()) == l {
			leader = i
		}
	}
	return leader
}

// WaitLeader waits until the running members agree on a running leader and
// returns its index, or returns an error when ctx ends first.
func (c *Cluster) WaitLeader(ctx context.Context) (int, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if i := c.Leader(); i >= 0 {
			return i, nil
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("no leader: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// Stop hard-stops member i, keeping its data directory and ports.
func (c *Cluster) Stop(i int) { c.tb.Helper(); c.Members[i].Stop() }

// Restart starts member i again with the same data directory and ports and
// waits until it serves.
func (c *Cluster) Restart(i int) { c.tb.Helper(); c.Members[i].Restart() }
