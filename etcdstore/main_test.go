package etcdstore_test

import (
	"flag"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/baldur-go/baldur/etcdstore"
	"github.com/baldur-go/baldur/internal/embedetcd"
	"github.com/baldur-go/baldur/internal/etcdtest"
)

// The package's tests share one single-member etcd, started by TestMain;
// every test gets its own key prefix (and so an empty store).
var member *embedetcd.Server

func TestMain(m *testing.M) {
	// The conformance cases mostly wait out TTLs; run many at once unless
	// -test.parallel was given (or when fuzzing, where it counts workers).
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" || f.Name == "test.fuzz" })
	if !set {
		_ = flag.Set("test.parallel", "32")
	}
	etcdtest.VerifyMainWithMember(m, func(s *embedetcd.Server) { member = s })
}

func newClient(t testing.TB) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: member.Endpoints(), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// newStore returns a Store with a fresh prefix over cli (a new client when
// nil), closed at the end of the test.
func newStore(t testing.TB, cli *clientv3.Client, opts ...etcdstore.Option) *etcdstore.Store {
	t.Helper()
	if cli == nil {
		cli = newClient(t)
	}
	opts = append([]etcdstore.Option{etcdstore.WithPrefix(etcdtest.Prefix(t)), etcdstore.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))}, opts...)
	s, err := etcdstore.New(cli, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// newStoreAt returns a second Store on an existing prefix (another process
// sharing the same keys), closed at the end of the test.
func newStoreAt(t testing.TB, cli *clientv3.Client, prefix string) *etcdstore.Store {
	t.Helper()
	s, err := etcdstore.New(cli, etcdstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
