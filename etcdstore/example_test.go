package etcdstore_test

import (
	"context"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/etcdstore"
)

// The usual call path: read a rollout, then save the next version under an
// optimistic check, and take a config lock.
func ExampleNew() {
	ctx := context.Background()
	cli, err := clientv3.New(clientv3.Config{Endpoints: member.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		panic(err)
	}
	s, err := etcdstore.New(cli, etcdstore.WithPrefix("/example/"), etcdstore.WithOwnClient())
	if err != nil {
		panic(err)
	}
	defer s.Close() // closes the client too: WithOwnClient

	canary := s.Canary()
	if _, err := canary.SaveRollout(ctx, "r1", baldur.Record{"version": 1, "state": "started"}, time.Hour, nil); err != nil {
		panic(err)
	}
	rec, err := canary.GetRollout(ctx, "r1")
	if err != nil {
		panic(err)
	}
	v := baldur.VersionOf(rec)
	ok, err := canary.SaveRollout(ctx, "r1", baldur.Record{"version": v + 1, "state": "promoted"}, time.Hour, &v)
	fmt.Println("saved:", ok, err)
	ok, err = canary.SaveRollout(ctx, "r1", baldur.Record{"version": v + 1}, time.Hour, &v)
	fmt.Println("stale save:", ok, err)

	got, _ := canary.AcquireConfigLock(ctx, "payments", "r1", 10*time.Minute)
	again, _ := canary.AcquireConfigLock(ctx, "payments", "r2", 10*time.Minute)
	owner, _ := canary.GetConfigLockOwner(ctx, "payments")
	released, _ := canary.ReleaseConfigLock(ctx, "payments", "r1")
	fmt.Println(got, again, owner, released)
	// Output:
	// saved: true <nil>
	// stale save: false <nil>
	// true false r1 true
}

// Sessions live under a lease for their TTL and are invalidated per user.
func ExampleSessions() {
	ctx := context.Background()
	cli, err := clientv3.New(clientv3.Config{Endpoints: member.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		panic(err)
	}
	defer cli.Close()
	s, err := etcdstore.New(cli, etcdstore.WithPrefix("/example-sessions/"))
	if err != nil {
		panic(err)
	}
	defer s.Close()

	p := s.Sessions()
	_ = p.Register(ctx, "alice", "web", baldur.Record{"ip": "10.0.0.7"}, time.Hour)
	_ = p.Register(ctx, "alice", "cli", nil, time.Hour)
	n, _ := p.GetActiveSessionCount(ctx, "alice")
	fmt.Println(n)
	done, _ := p.InvalidateUserSessions(ctx, "alice")
	fmt.Println(done)
	// Output:
	// 2
	// [etcd_sessions(2)]
}
