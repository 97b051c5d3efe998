package etcdtest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/baldur-go/baldur/internal/embedetcd"
)

// VerifyMainWithMember runs a package's tests around one shared
// single-member etcd (fsync off, data in a temporary directory) and checks
// for leaked goroutines after the member is gone. use receives the running
// server before the first test. It is for a TestMain, where no testing.TB
// exists yet:
//
//	func TestMain(m *testing.M) {
//		etcdtest.VerifyMainWithMember(m, func(s *embedetcd.Server) { member = s })
//	}
func VerifyMainWithMember(m *testing.M, use func(*embedetcd.Server)) {
	goleak.VerifyTestMain(sharedMember{m: m, use: use}, LeakOptions()...)
}

type sharedMember struct {
	m   *testing.M
	use func(*embedetcd.Server)
}

func (s sharedMember) Run() int {
	dir, err := os.MkdirTemp("", "etcdtest-shared-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := embedetcd.Start(ctx, embedetcd.Config{Dir: dir, Logger: zap.NewNop(), UnsafeNoFsync: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdtest: start the shared etcd member:", err)
		return 1
	}
	defer srv.Close()
	s.use(srv)
	return s.m.Run()
}
