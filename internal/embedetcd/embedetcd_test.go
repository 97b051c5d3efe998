package embedetcd_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/features"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/baldur-go/baldur/internal/embedetcd"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartServesAndChecksLeases(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := embedetcd.Start(ctx, embedetcd.Config{
		Name:   "solo",
		Dir:    t.TempDir(),
		Logger: zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	gates := srv.Etcd().Server
	if !gates.FeatureEnabled(features.LeaseCheckpoint) || !gates.FeatureEnabled(features.LeaseCheckpointPersist) {
		t.Fatal("lease checkpointing is not enabled")
	}
	if srv.Name() != "solo" || len(srv.Endpoints()) != 1 || srv.PeerURL() == "" {
		t.Fatalf("name %q endpoints %v peer %q", srv.Name(), srv.Endpoints(), srv.PeerURL())
	}

	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	resp, err := cli.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "v" {
		t.Fatalf("got %v", resp.Kvs)
	}
}

func TestStartRequiresDir(t *testing.T) {
	_, err := embedetcd.Start(context.Background(), embedetcd.Config{})
	if !errors.Is(err, embedetcd.ErrInvalidConfig) {
		t.Fatalf("err = %v, want ErrInvalidConfig", err)
	}
}

func TestStartHonoursCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A member of a two-member cluster whose peer never starts cannot become
	// ready; the cancelled context must end the wait and close the member.
	p1, err := embedetcd.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	p2, err := embedetcd.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	peer1 := fmt.Sprintf("http://127.0.0.1:%d", p1)
	_, err = embedetcd.Start(ctx, embedetcd.Config{
		Name:           "a",
		Dir:            t.TempDir(),
		PeerURL:        peer1,
		InitialCluster: "a=" + peer1 + fmt.Sprintf(",b=http://127.0.0.1:%d", p2),
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestStartReportsPortInUse pins the error Start's retry depends on: a port
// that is taken comes back as syscall.EADDRINUSE through the wrapping, and a
// port given in Config is not replaced by another one.
func TestStartReportsPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := fmt.Sprintf("http://%s", l.Addr())
	_, err = embedetcd.Start(context.Background(), embedetcd.Config{Dir: t.TempDir(), ClientURL: taken, PeerURL: ""})
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("err = %v, want EADDRINUSE", err)
	}
}
