package etcdtest

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
)

// shutdownNoise is the message embed logs at error level for every listener
// it closes during a normal stop ("http: Server closed", "use of closed
// network connection"). It says nothing a test needs, and a cluster test
// would print dozens of them.
const shutdownNoise = "setting up serving from embedded etcd failed."

// testLogger logs at error level through t, without embed's shutdown noise.
func testLogger(tb testing.TB) *zap.Logger {
	return zaptest.NewLogger(tb,
		zaptest.Level(zap.ErrorLevel),
		zaptest.WrapOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return quietCore{c} })),
	)
}

type quietCore struct{ zapcore.Core }

func (q quietCore) With(fields []zapcore.Field) zapcore.Core { return quietCore{q.Core.With(fields)} }

func (q quietCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if e.Message == shutdownNoise {
		return ce
	}
	return q.Core.Check(e, ce)
}
