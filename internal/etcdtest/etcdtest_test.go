package etcdtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"

	"github.com/baldur-go/baldur/internal/etcdtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, etcdtest.LeakOptions()...) }

func TestNewMember(t *testing.T) {
	m := etcdtest.NewMember(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := m.Client.Put(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	resp, err := m.Client.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
		t.Fatalf("got %v", resp.Kvs)
	}
}

func TestPrefixIsUniqueAndClean(t *testing.T) {
	a, b := etcdtest.Prefix(t), etcdtest.Prefix(t)
	if a == b {
		t.Fatalf("two calls gave %q", a)
	}
	for _, p := range []string{a, b} {
		if !strings.HasPrefix(p, "/t/TestPrefixIsUniqueAndClean-") || !strings.HasSuffix(p, "/") {
			t.Fatalf("prefix %q", p)
		}
	}
	t.Run("sub test/with space", func(t *testing.T) {
		p := etcdtest.Prefix(t)
		if strings.Count(p, "/") != 3 || strings.Contains(p, " ") {
			t.Fatalf("prefix %q not sanitized", p)
		}
	})
}

// TestClusterStopRestart stops the leader of a 3-member cluster, checks
// that the remaining two elect another leader and accept writes, then brings
// the old leader back on its data and ports and reads the write through it.
func TestClusterStopRestart(t *testing.T) {
	c := etcdtest.NewCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	if _, err := c.Client().Put(ctx, "before", "1"); err != nil {
		t.Fatal(err)
	}
	old, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.Stop(old)
	if c.Members[old].Server() != nil {
		t.Fatal("stopped member still has a server")
	}
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if leader == old {
		t.Fatalf("stopped member %d reported as leader", old)
	}
	if _, err := c.Client().Put(ctx, "during", "2"); err != nil {
		t.Fatal(err)
	}

	c.Restart(old)
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	// A linearizable read through the restarted member's own client must see
	// both writes: the one it stored before the stop and the one it missed.
	resp, err := c.Members[old].Client.Get(ctx, "", clientv3.WithFromKey())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range resp.Kvs {
		got[string(kv.Key)] = string(kv.Value)
	}
	if got["before"] != "1" || got["during"] != "2" {
		t.Fatalf("restarted member reads %v", got)
	}
}
