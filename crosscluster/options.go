package crosscluster

import (
	"errors"
	"fmt"
	"time"

	"github.com/baldur-go/baldur"
	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// ServiceOption configures a Service.
type ServiceOption interface {
	applyService(*serviceConfig) error
}

// Option configures a Replicator.
type Option interface {
	applyReplicator(*replicatorConfig) error
}

type serviceConfig struct {
	clock  clockwork.Clock
	logger *zap.Logger
}

type replicatorConfig struct {
	prefix     string
	logger     *zap.Logger
	registerer prometheus.Registerer
	backoffMin time.Duration
	backoffMax time.Duration
	batchSize  int
}

type serviceOptionFunc func(*serviceConfig) error

func (f serviceOptionFunc) applyService(c *serviceConfig) error { return f(c) }

type optionFunc func(*replicatorConfig) error

func (f optionFunc) applyReplicator(c *replicatorConfig) error { return f(c) }

// LoggerOption is returned by WithLogger; it configures a Service and a
// Replicator alike.
type LoggerOption struct{ logger *zap.Logger }

func (o LoggerOption) applyService(c *serviceConfig) error {
	if o.logger == nil {
		return fmt.Errorf("%w: WithLogger(nil)", baldur.ErrInvalidArgument)
	}
	c.logger = o.logger
	return nil
}

func (o LoggerOption) applyReplicator(c *replicatorConfig) error {
	if o.logger == nil {
		return fmt.Errorf("%w: WithLogger(nil)", baldur.ErrInvalidArgument)
	}
	c.logger = o.logger
	return nil
}

// WithLogger sets the logger of a Service or a Replicator; the default is
// zap.NewNop().
func WithLogger(l *zap.Logger) LoggerOption { return LoggerOption{logger: l} }

// WithClock sets the clock a Service reads the time from (timestamps,
// expiry); the default is the real clock. Tests pass a fake one.
func WithClock(c clockwork.Clock) ServiceOption {
	return serviceOptionFunc(func(cfg *serviceConfig) error {
		if c == nil {
			return fmt.Errorf("%w: WithClock(nil)", baldur.ErrInvalidArgument)
		}
		cfg.clock = c
		return nil
	})
}

// WithPrefix sets the etcd key prefix the replicated families live under;
// "" is refused. The default is etcdstore.DefaultPrefix. It must match the
// prefix the stores of every cluster use.
func WithPrefix(prefix string) Option {
	return optionFunc(func(c *replicatorConfig) error {
		if prefix == "" {
			return fmt.Errorf("%w: WithPrefix(\"\")", baldur.ErrInvalidArgument)
		}
		c.prefix = prefix
		return nil
	})
}

// WithRegisterer registers the replicator's Prometheus metrics with r; by
// default they are kept unregistered (Status still reports them).
func WithRegisterer(r prometheus.Registerer) Option {
	return optionFunc(func(c *replicatorConfig) error {
		if r == nil {
			return fmt.Errorf("%w: WithRegisterer(nil)", baldur.ErrInvalidArgument)
		}
		c.registerer = r
		return nil
	})
}

// WithBackoff sets the retry delay after a peer failure: it starts at min,
// doubles up to max, with ±20 % jitter, and resets after a stream that made
// progress. Defaults: 100 ms and 10 s. min must be positive and max >= min.
func WithBackoff(min, max time.Duration) Option {
	return optionFunc(func(c *replicatorConfig) error {
		if min <= 0 || max < min {
			return fmt.Errorf("%w: WithBackoff(%v, %v): want 0 < min <= max", baldur.ErrInvalidArgument, min, max)
		}
		c.backoffMin, c.backoffMax = min, max
		return nil
	})
}

// WithBatchSize sets how many records one resync transaction carries at
// most (a policy copy is two puts, a request copy three operations; a
// transaction also stops at 120 operations, under etcd's default limit of
// 128). Default 60, the most.
func WithBatchSize(n int) Option {
	return optionFunc(func(c *replicatorConfig) error {
		if n < 1 || n > 60 {
			return fmt.Errorf("%w: WithBatchSize(%d): want 1..60", baldur.ErrInvalidArgument, n)
		}
		c.batchSize = n
		return nil
	})
}

var errNilStore = errors.New("store is nil")
