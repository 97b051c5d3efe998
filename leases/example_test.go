package leases_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/baldur-go/baldur/leases"
)

// A fenced lock: writes under the lock go through the fence, in the same
// transaction as its comparison, so a holder that lost its lease cannot
// write any more.
func ExampleLock() {
	ctx := context.Background()
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		panic(err)
	}
	defer cli.Close()
	m, err := leases.NewManager(cli.Lease)
	if err != nil {
		panic(err)
	}
	defer m.Close()

	held, err := m.KeepAlive(ctx, 10*time.Second)
	if err != nil {
		panic(err)
	}
	lock, err := leases.NewLock(cli, "/example/locks/reindex", "worker-1")
	if err != nil {
		panic(err)
	}
	fence, err := lock.Acquire(ctx, held.ID())
	if err != nil {
		panic(err)
	}
	if _, err := fence.Do(ctx, cli, clientv3.OpPut("/example/state", "reindexed")); err != nil {
		panic(err)
	}
	fmt.Println("written under the lock")

	_ = held.Release() // the lease is gone, and the lock key with it
	_, err = fence.Do(ctx, cli, clientv3.OpPut("/example/state", "too late"))
	fmt.Println(errors.Is(err, leases.ErrNotHeld))
	// Output:
	// written under the lock
	// true
}
