package etcdstore_test

import (
	"sync"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// tally counts the requests a Store sends, by kind, for the tests' exact
// per-call checks (the wrappers are in countingkv_test.go).
type tally struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *tally) add(kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[kind]++
}

// take returns the counts since the last take and resets them.
func (c *tally) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = nil
	if n == nil {
		n = map[string]int{}
	}
	return n
}

// talliedClient returns a fresh client whose KV and Lease requests are
// counted in the returned tally.
func talliedClient(t *testing.T) (*clientv3.Client, *tally) {
	cli := newClient(t)
	c := &tally{}
	wrapClient(cli, c)
	return cli, c
}
