package consulconfig

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/baldur-go/baldur"
)

// Defaults of the options. Each With... option documents its own.
const (
	DefaultPrefix       = "config/"
	DefaultWaitTime     = time.Minute
	DefaultMinBackoff   = 100 * time.Millisecond
	DefaultMaxBackoff   = 30 * time.Second
	DefaultMinQuiet     = 100 * time.Millisecond
	DefaultMaxQuiet     = time.Second
	DefaultMaxValueSize = 1 << 20
	DefaultStartTimeout = 10 * time.Second
	// DefaultRate and DefaultBurst bound the wake-ups that bring no change
	// (an expired wait, an identical value written again) and the retries
	// after errors. A real change is never held back by them.
	DefaultRate  = rate.Limit(5)
	DefaultBurst = 10
)

// Consistency is Consul's read consistency mode for the watch.
type Consistency int

const (
	// ConsistencyDefault reads through the leader, which may serve a value
	// slightly stale during a leader change (Consul's default mode).
	ConsistencyDefault Consistency = iota
	// ConsistencyStale lets any server answer (?stale): cheaper, and it
	// keeps answering without a leader. Empty answers without a known
	// leader never replace a non-empty snapshot.
	ConsistencyStale
	// ConsistencyConsistent checks leadership with a quorum on each read
	// (?consistent): never stale, one more round trip.
	ConsistencyConsistent
)

func (c Consistency) String() string {
	switch c {
	case ConsistencyDefault:
		return "default"
	case ConsistencyStale:
		return "stale"
	case ConsistencyConsistent:
		return "consistent"
	}
	return fmt.Sprintf("Consistency(%d)", int(c))
}

// TLS holds the files and server name for an HTTPS connection to Consul.
// Empty fields fall back to CONSUL_CACERT, CONSUL_CLIENT_CERT,
// CONSUL_CLIENT_KEY and CONSUL_TLS_SERVER_NAME.
type TLS struct {
	CAFile     string // PEM bundle of the CAs that sign the agent's certificate
	CertFile   string // client certificate (PEM); needs KeyFile
	KeyFile    string // client key (PEM); needs CertFile
	ServerName string // name to verify in the agent's certificate
}

// Option configures a Provider. Options check their input: New returns an
// error wrapping baldur.ErrInvalidArgument for a bad one.
type Option func(*options) error

type options struct {
	address     string
	token       string
	tokenFile   string
	tls         *TLS
	datacenter  string
	namespace   string
	partition   string
	consistency Consistency

	prefix       string
	documents    []string
	wait         time.Duration
	minBackoff   time.Duration
	maxBackoff   time.Duration
	limit        rate.Limit
	burst        int
	minQuiet     time.Duration
	maxQuiet     time.Duration
	maxValueSize int
	startTimeout time.Duration

	snapshotFile  string
	optionalStart bool
	logger        *zap.Logger
	registerer    prometheus.Registerer
}

func defaultOptions() options {
	return options{
		prefix:       DefaultPrefix,
		wait:         DefaultWaitTime,
		minBackoff:   DefaultMinBackoff,
		maxBackoff:   DefaultMaxBackoff,
		limit:        DefaultRate,
		burst:        DefaultBurst,
		minQuiet:     DefaultMinQuiet,
		maxQuiet:     DefaultMaxQuiet,
		maxValueSize: DefaultMaxValueSize,
		startTimeout: DefaultStartTimeout,
		logger:       zap.NewNop(),
	}
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("consulconfig: "+format+": %w", append(args, baldur.ErrInvalidArgument)...)
}

// WithAddress sets the agent's HTTP address: "host:port", "http://host:port",
// "https://host:port" or "unix:///path". Defaults to CONSUL_HTTP_ADDR, then
// 127.0.0.1:8500.
func WithAddress(addr string) Option {
	return func(o *options) error {
		if strings.TrimSpace(addr) == "" {
			return invalid("empty address")
		}
		o.address = addr
		return nil
	}
}

// WithToken sets the ACL token. Defaults to CONSUL_HTTP_TOKEN.
func WithToken(token string) Option {
	return func(o *options) error {
		if token == "" {
			return invalid("empty token")
		}
		o.token = token
		return nil
	}
}

// WithTokenFile reads the ACL token from a file when the provider starts;
// it wins over WithToken. Defaults to CONSUL_HTTP_TOKEN_FILE.
func WithTokenFile(path string) Option {
	return func(o *options) error {
		if path == "" {
			return invalid("empty token file path")
		}
		o.tokenFile = path
		return nil
	}
}

// WithTLS sets the CA, client certificate and key, and server name for
// HTTPS. A certificate needs its key and the other way round.
func WithTLS(t TLS) Option {
	return func(o *options) error {
		if (t.CertFile == "") != (t.KeyFile == "") {
			return invalid("TLS client certificate and key go together (cert %q, key %q)", t.CertFile, t.KeyFile)
		}
		o.tls = &t
		return nil
	}
}

// WithDatacenter reads from another datacenter than the agent's own.
func WithDatacenter(dc string) Option {
	return func(o *options) error {
		if dc == "" {
			return invalid("empty datacenter")
		}
		o.datacenter = dc
		return nil
	}
}

// WithNamespace sets the Consul Enterprise namespace. Defaults to
// CONSUL_NAMESPACE.
func WithNamespace(ns string) Option {
	return func(o *options) error {
		if ns == "" {
			return invalid("empty namespace")
		}
		o.namespace = ns
		return nil
	}
}

// WithPartition sets the Consul Enterprise admin partition. Defaults to
// CONSUL_PARTITION.
func WithPartition(partition string) Option {
	return func(o *options) error {
		if partition == "" {
			return invalid("empty partition")
		}
		o.partition = partition
		return nil
	}
}

// WithConsistency sets the read consistency mode (default: Consul's default).
func WithConsistency(c Consistency) Option {
	return func(o *options) error {
		if c < ConsistencyDefault || c > ConsistencyConsistent {
			return invalid("unknown consistency mode %d", int(c))
		}
		o.consistency = c
		return nil
	}
}

// WithPrefix sets the KV prefix the provider reads (default "config/"). A
// missing trailing slash is added; "" reads the whole KV store.
func WithPrefix(prefix string) Option {
	return func(o *options) error {
		if strings.HasPrefix(prefix, "/") {
			return invalid("prefix %q starts with a slash", prefix)
		}
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		o.prefix = prefix
		return nil
	}
}

// WithDocument names a key, under the prefix, whose value is a whole JSON or
// YAML document (its top level an object). The document is merged into the
// tree at the root; documents merge in the order given, and ordinary keys
// win over documents. It may be given several times.
func WithDocument(key string) Option {
	return func(o *options) error {
		if key == "" || strings.HasSuffix(key, "/") || strings.HasPrefix(key, "/") {
			return invalid("document key %q is not a key", key)
		}
		o.documents = append(o.documents, key)
		return nil
	}
}

// WithWaitTime sets how long one blocking query waits for a change (default
// one minute, at most Consul's ten). The request deadline is the wait plus
// Consul's jitter (wait/16) plus one second.
func WithWaitTime(d time.Duration) Option {
	return func(o *options) error {
		if d < time.Second || d > 10*time.Minute {
			return invalid("wait time %v outside [1s, 10m]", d)
		}
		o.wait = d
		return nil
	}
}

// WithBackoff sets the bounds of the exponential backoff with jitter after
// errors (default 100ms to 30s).
func WithBackoff(minDelay, maxDelay time.Duration) Option {
	return func(o *options) error {
		if minDelay <= 0 || maxDelay < minDelay {
			return invalid("backoff bounds %v..%v", minDelay, maxDelay)
		}
		o.minBackoff, o.maxBackoff = minDelay, maxDelay
		return nil
	}
}

// WithRateLimit bounds wake-ups that bring no change and retries after
// errors (default 5 per second, burst 10). It never delays a real change.
func WithRateLimit(r rate.Limit, burst int) Option {
	return func(o *options) error {
		if r <= 0 || burst < 1 {
			return invalid("rate limit %v burst %d", r, burst)
		}
		o.limit, o.burst = r, burst
		return nil
	}
}

// WithDebounce sets the quiet periods of OnChange: a change is delivered
// once no other change came for minQuiet, and at the latest maxQuiet after
// the first undelivered change (default 100ms and 1s).
func WithDebounce(minQuiet, maxQuiet time.Duration) Option {
	return func(o *options) error {
		if minQuiet < 0 || maxQuiet < minQuiet {
			return invalid("debounce %v..%v", minQuiet, maxQuiet)
		}
		o.minQuiet, o.maxQuiet = minQuiet, maxQuiet
		return nil
	}
}

// WithMaxValueSize sets the largest value that is parsed (default 1 MiB,
// above Consul's own 512 KiB limit). A larger value is kept as its raw
// string, and a larger document is reported and skipped.
func WithMaxValueSize(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return invalid("max value size %d", n)
		}
		o.maxValueSize = n
		return nil
	}
}

// WithStartTimeout bounds the first read when New's context has no deadline
// (default 10s).
func WithStartTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return invalid("start timeout %v", d)
		}
		o.startTimeout = d
		return nil
	}
}

// WithSnapshotFile keeps the last known good configuration in a file
// (written to a temporary file, then renamed) and loads it at start.
// The file holds the raw values, secrets included: it is created 0600.
func WithSnapshotFile(path string) Option {
	return func(o *options) error {
		if path == "" {
			return invalid("empty snapshot file path")
		}
		o.snapshotFile = path
		return nil
	}
}

// WithOptionalStart lets New succeed when Consul cannot be read: the
// provider serves the snapshot file (or nothing) and keeps trying. Without
// it, New fails fast.
func WithOptionalStart() Option {
	return func(o *options) error {
		o.optionalStart = true
		return nil
	}
}

// WithLogger sets the logger (default zap.NewNop()). Values of secret-looking
// keys never reach it.
func WithLogger(l *zap.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return invalid("nil logger")
		}
		o.logger = l
		return nil
	}
}

// WithRegisterer registers the provider's Prometheus collectors; Close
// unregisters them. Without it, nothing is registered.
func WithRegisterer(r prometheus.Registerer) Option {
	return func(o *options) error {
		if r == nil {
			return invalid("nil registerer")
		}
		o.registerer = r
		return nil
	}
}

// check validates the options together, after each checked itself.
func (o *options) check() error {
	for _, d := range o.documents {
		if !strings.HasPrefix(d, o.prefix) || len(d) == len(o.prefix) {
			return invalid("document %q is not under the prefix %q", d, o.prefix)
		}
	}
	seen := make(map[string]bool, len(o.documents))
	for _, d := range o.documents {
		if seen[d] {
			return invalid("document %q given twice", d)
		}
		seen[d] = true
	}
	return nil
}

var errNoLeader = errors.New("consulconfig: empty answer without a known leader")
