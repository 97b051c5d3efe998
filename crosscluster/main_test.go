package crosscluster

import (
	"testing"

	"github.com/baldur-go/baldur/internal/etcdtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, etcdtest.LeakOptions()...)
}
