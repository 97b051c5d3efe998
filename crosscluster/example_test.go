package crosscluster_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/crosscluster"
	"github.com/baldur-go/baldur/memstore"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// A request created in east waits for approval in west; approving it there
// runs the apply callback and marks it applied.
func ExampleService_Approve() {
	ctx := context.Background()
	store := memstore.New().CrossCluster() // in production: the etcd store of each cluster
	east, _ := crosscluster.NewService(store, "east")
	west, _ := crosscluster.NewService(store, "west")

	_, err := east.CreateRequests(ctx, "retry-5", []string{"west"}, crosscluster.ConfigChange{
		ConfigType: "retry", NewValue: map[string]any{"max_attempts": 5}, ChangedBy: "alice",
	})
	if err != nil {
		log.Fatal(err)
	}
	ids, _ := west.PendingIDs(ctx, "west")
	fmt.Println("pending in west:", ids)

	rec, err := west.Approve(ctx, "retry-5-west", "bob", func(ctx context.Context, req baldur.Record) error {
		fmt.Println("applying", req["config_change"].(map[string]any)["new_value"])
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("status:", rec["status"])

	_, err = west.Approve(ctx, "retry-5-west", "bob", nil)
	fmt.Println(err)
	// Output:
	// pending in west: [retry-5-west]
	// applying map[max_attempts:5]
	// status: applied
	// crosscluster: propagation request is not pending approval: id "retry-5-west" has status "applied"
}

// A config is checked against every policy of its type; rules whose field
// the config lacks are skipped.
func ExampleService_ValidateConfig() {
	ctx := context.Background()
	s, _ := crosscluster.NewService(memstore.New().CrossCluster(), "east")
	maxAttempts := 10.0
	_ = s.SavePolicy(ctx, crosscluster.Policy{ID: "retry-limits", ConfigType: "retry", Version: 1,
		Rules: []crosscluster.Rule{
			{Field: "max_attempts", Max: &maxAttempts},
			{Field: "backoff", Allowed: []any{"linear", "exponential"}},
		}})
	ok, violations, _ := s.ValidateConfig(ctx, "retry", map[string]any{"max_attempts": 12})
	fmt.Println(ok, violations)
	ok, _, _ = s.ValidateConfig(ctx, "retry", map[string]any{"backoff": "linear"})
	fmt.Println(ok)
	// Output:
	// false [policy retry-limits: max_attempts = 12 is above the maximum 10]
	// true
}

// The replicator of cluster east pulls policies and requests from west and
// central into east's etcd until SIGTERM, then finishes its in-flight
// transaction and returns. Every cluster runs one, listing all the others.
func ExampleNewReplicator() {
	dial := func(endpoint string) *clientv3.Client {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}})
		if err != nil {
			log.Fatal(err)
		}
		return c
	}
	local := dial("http://127.0.0.1:2379")
	r, err := crosscluster.NewReplicator(local, "east", []crosscluster.Peer{
		{Name: "west", Client: dial("http://west.example:2379")},
		{Name: "central", Client: dial("http://central.example:2379")},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := r.Run(ctx); err != nil {
		log.Fatal(err)
	}
	for _, st := range r.Status() {
		fmt.Println(st.Peer, st.Checkpoint, st.Replicated)
	}
}
