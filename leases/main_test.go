package leases_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/baldur-go/baldur/internal/embedetcd"
	"github.com/baldur-go/baldur/internal/etcdtest"
)

// endpoints of the one etcd member the package's tests share; each test
// uses its own client and its own keys.
var endpoints []string

func TestMain(m *testing.M) {
	etcdtest.VerifyMainWithMember(m, func(s *embedetcd.Server) { endpoints = s.Endpoints() })
}

func newClient(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

var keySeq atomic.Int64

// testKey returns a key no other test uses.
func testKey(t testing.TB, name string) string {
	return fmt.Sprintf("/leases-test/%s/%d/%s", t.Name(), keySeq.Add(1), name)
}

// countingLease counts the grants sent through a clientv3.Lease.
type countingLease struct {
	clientv3.Lease
	mu     sync.Mutex
	grants []int64 // requested TTLs
}

func (c *countingLease) Grant(ctx context.Context, ttl int64) (*clientv3.LeaseGrantResponse, error) {
	c.mu.Lock()
	c.grants = append(c.grants, ttl)
	c.mu.Unlock()
	return c.Lease.Grant(ctx, ttl)
}

func (c *countingLease) granted() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int64(nil), c.grants...)
}

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), d)
}
