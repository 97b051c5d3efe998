// Command tour is the README's short tour: the same code, compiled by
// `go build ./...` and checked against the README by a test.
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/memstore"
)

func main() {
	ctx := context.Background()
	store := memstore.New() // or etcdstore.New(etcdClient) for many processes and clusters

	// A canary rollout record with optimistic concurrency on its "version".
	canary := store.Canary()
	if _, err := canary.SaveRollout(ctx, "rollout-1", baldur.Record{"version": 1, "state": "canary"}, time.Hour, nil); err != nil {
		log.Fatal(err)
	}
	rec, err := canary.GetRollout(ctx, "rollout-1")
	if err != nil {
		log.Fatal(err)
	}
	expected := baldur.VersionOf(rec)
	rec["version"], rec["state"] = expected+1, "promoted"
	saved, err := canary.SaveRollout(ctx, "rollout-1", rec, time.Hour, &expected)
	fmt.Println("saved:", saved, err) // a concurrent writer with the same expected version gets false

	// One rollout per config type at a time: the config lock.
	locked, _ := canary.AcquireConfigLock(ctx, "circuit_breaker", "rollout-1", 10*time.Minute)
	owner, _ := canary.GetConfigLockOwner(ctx, "circuit_breaker")
	fmt.Println("locked:", locked, "owner:", owner)

	// Config history: an atomic counter and a bounded history.
	history := store.ConfigHistory()
	v, _ := history.NextVersion(ctx, "circuit_breaker")
	_ = history.SaveVersion(ctx, "circuit_breaker", baldur.Record{"version": v, "values": map[string]any{"threshold": 5}}, 50)
	current, _ := history.GetCurrent(ctx, "circuit_breaker")
	fmt.Println("current version:", current["version"])
}
