package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"go.uber.org/goleak"

	"github.com/baldur-go/baldur/internal/etcdtest"
)

// syncBin is the baldur-sync binary TestMain builds once; every sync test
// runs agents as separate processes from it. TestMain is shared by the whole
// package (the etcd tests too).
var syncBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "baldur-sync-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: temp dir:", err)
		os.Exit(1)
	}
	syncBin = filepath.Join(dir, "baldur-sync")
	root, err := syncModuleRoot()
	if err == nil {
		cmd := exec.Command("go", "build", "-o", syncBin, "./cmd/baldur-sync")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
		var out []byte
		if out, err = cmd.CombinedOutput(); err != nil {
			err = fmt.Errorf("go build ./cmd/baldur-sync: %w\n%s", err, out)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	// etcdtest.LeakOptions ignores only the keep-alive HTTP connections
	// between etcd members' peer ports, which etcd never closes.
	goleak.VerifyTestMain(m, append(etcdtest.LeakOptions(), goleak.Cleanup(func(code int) {
		_ = os.RemoveAll(dir)
		os.Exit(code)
	}))...)
}

// syncModuleRoot is the directory of go.mod, two levels above this file.
func syncModuleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot locate the test source")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	return filepath.Abs(root)
}
