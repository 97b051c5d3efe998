package consulconfig

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/consul/api"
	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/baldur-go/baldur/config"
)

// Provider is a config.ConfigProvider over a Consul KV prefix, kept live by
// one blocking query. Its read methods take no lock and are safe for
// concurrent use; Close stops the watch.
type Provider struct {
	config.Getters // GetBool, GetInt, GetFloat, GetString over Lookup

	cur atomic.Pointer[snapshot]

	opts    options
	kv      *api.KV
	http    *http.Client
	addr    string
	log     *zap.Logger
	metrics *metrics
	limiter *rate.Limiter
	build   builder

	changed chan struct{} // a new snapshot was installed (cap 1)

	mu        sync.Mutex
	callbacks []callback // in registration order
	nextID    uint64

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

var _ config.ConfigProvider = (*Provider)(nil)

// New connects to Consul, reads the prefix once and starts watching it.
// ctx bounds the first read only (WithStartTimeout when it has no deadline);
// the watch runs until Close. By default a failed first read fails New;
// WithOptionalStart serves the snapshot file, or nothing, and keeps trying.
func New(ctx context.Context, opts ...Option) (*Provider, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if err := o.check(); err != nil {
		return nil, err
	}

	cfg := api.DefaultConfig() // CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN(_FILE), CONSUL_CACERT, ...
	if o.address != "" {
		cfg.Address = o.address
	}
	if o.token != "" {
		cfg.Token = o.token
	}
	if o.tokenFile != "" {
		cfg.TokenFile = o.tokenFile
	}
	if o.tls != nil {
		if o.tls.CAFile != "" {
			cfg.TLSConfig.CAFile = o.tls.CAFile
		}
		if o.tls.CertFile != "" {
			cfg.TLSConfig.CertFile = o.tls.CertFile
			cfg.TLSConfig.KeyFile = o.tls.KeyFile
		}
		if o.tls.ServerName != "" {
			cfg.TLSConfig.Address = o.tls.ServerName
		}
		if !strings.Contains(cfg.Address, "://") {
			cfg.Scheme = "https"
		}
	}
	if o.datacenter != "" {
		cfg.Datacenter = o.datacenter
	}
	if o.namespace != "" {
		cfg.Namespace = o.namespace
	}
	if o.partition != "" {
		cfg.Partition = o.partition
	}
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("consulconfig: consul client for %s: %w", cfg.Address, err)
	}

	p := &Provider{
		opts:    o,
		kv:      client.KV(),
		http:    cfg.HttpClient, // NewClient sets it; Close drops its idle connections
		addr:    cfg.Address,
		log:     o.logger.With(zap.String("consul", cfg.Address), zap.String("prefix", o.prefix)),
		metrics: newMetrics(o.prefix),
		limiter: rate.NewLimiter(o.limit, o.burst),
		build:   builder{prefix: o.prefix, documents: o.documents, maxValueSize: o.maxValueSize},
		changed: make(chan struct{}, 1),
	}
	p.Getters = config.NewGetters(p)
	p.cur.Store(emptySnapshot())
	if o.registerer != nil {
		if err := p.metrics.register(o.registerer); err != nil {
			p.http.CloseIdleConnections()
			return nil, fmt.Errorf("consulconfig: register metrics for prefix %q: %w", o.prefix, err)
		}
	}
	if o.snapshotFile != "" {
		p.loadSnapshotFile()
	}

	index, err := p.firstRead(ctx)
	if err != nil {
		if !o.optionalStart {
			p.release()
			return nil, fmt.Errorf("consulconfig: first read of %q from %s: %w", o.prefix, cfg.Address, err)
		}
		p.log.Warn("consul unreachable at start; serving the last known good configuration",
			zap.String("source", p.cur.Load().source), zap.Error(err))
	}

	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.wg.Add(2)
	go p.watch(index)
	go p.notify()
	return p, nil
}

// firstRead reads the prefix without blocking and installs what it finds.
// It returns the index to block on next.
func (p *Provider) firstRead(ctx context.Context) (uint64, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.opts.startTimeout)
		defer cancel()
	}
	res, err := p.list(ctx, 0)
	if err != nil {
		p.metrics.errors.WithLabelValues(errorKind(err)).Inc()
		return 0, err
	}
	if _, err := p.install(res); err != nil {
		p.metrics.errors.WithLabelValues(errorKind(err)).Inc()
		return 0, err
	}
	return nextIndex(0, res.meta.LastIndex), nil
}

func (p *Provider) loadSnapshotFile() {
	fs, err := readSnapshotFile(p.opts.snapshotFile)
	switch {
	case err != nil:
		p.metrics.errors.WithLabelValues(errKindSnapshot).Inc()
		p.log.Warn("ignoring the snapshot file", zap.Error(err))
		return
	case fs == nil:
		return
	case fs.Prefix != p.opts.prefix:
		p.log.Warn("ignoring a snapshot file of another prefix",
			zap.String("file", p.opts.snapshotFile), zap.String("file_prefix", fs.Prefix))
		return
	}
	s, problems := p.build.build(fs.Pairs, fs.Index, nil, "file")
	p.report(problems)
	p.cur.Store(s)
	p.log.Info("loaded the last known good configuration from the snapshot file",
		zap.String("file", p.opts.snapshotFile), zap.Uint64("index", fs.Index),
		zap.Time("saved_at", fs.SavedAt), zap.Int("keys", len(fs.Pairs)))
}

// Close stops the watch and the change notifier, waits for them, writes the
// snapshot file if it is behind, and unregisters the metrics. The provider
// keeps answering reads from its last snapshot. Close is idempotent.
func (p *Provider) Close() error {
	p.closeOnce.Do(func() {
		p.cancel()
		p.wg.Wait()
		p.release()
	})
	return nil
}

func (p *Provider) release() {
	p.http.CloseIdleConnections()
	if p.opts.registerer != nil {
		p.metrics.unregister(p.opts.registerer)
	}
}

// Lookup implements config.Lookuper: the value at the dotted key, a fresh
// copy when it is an object or array.
func (p *Provider) Lookup(key string) (any, bool) {
	v, ok := p.cur.Load().flat[key]
	if !ok {
		return nil, false
	}
	return cloneComposite(v), true
}

// Get returns the value at the dotted key (BALDUR.SLA.DEFAULT_HOURS reads
// <prefix>BALDUR/SLA/DEFAULT_HOURS), or def when it is absent. An object or
// array comes back as a fresh copy. An explicit null inside a JSON or YAML
// value is returned as nil.
func (p *Provider) Get(key string, def any) any {
	v, ok := p.cur.Load().flat[key]
	if !ok {
		return def
	}
	return cloneComposite(v)
}

// cloneComposite copies maps and slices and returns scalars as they are,
// without allocating.
func cloneComposite(v any) any {
	switch v.(type) {
	case map[string]any, []any:
		return clone(v)
	}
	return v
}

// GetNested returns the value at the path of keys, which may contain dots
// (a Consul key segment "app.yaml" is reachable only this way), or def.
func (p *Provider) GetNested(keys []string, def any) any {
	if len(keys) == 0 {
		return def
	}
	v, ok := config.LookupKeys(p.cur.Load().tree, keys)
	if !ok {
		return def
	}
	return cloneComposite(v)
}

// GetSection returns the subtree at the dotted name as fresh nested maps;
// empty (never nil) when absent or not an object. "" is the whole tree.
func (p *Provider) GetSection(name string) map[string]any {
	s := p.cur.Load()
	if name == "" {
		return cloneMap(s.tree)
	}
	if m, ok := s.flat[name].(map[string]any); ok {
		return cloneMap(m)
	}
	return map[string]any{}
}

// Index returns the Consul index of the configuration served now (0 before
// the first read).
func (p *Provider) Index() uint64 { return p.cur.Load().index }

// Dump renders every leaf, one "key = value" line each, sorted, with the
// values of secret-looking keys masked.
func (p *Provider) Dump() string { return p.cur.Load().dump() }

// String describes the provider without any value.
func (p *Provider) String() string {
	s := p.cur.Load()
	return fmt.Sprintf("consulconfig.Provider{consul: %s, prefix: %q, index: %d, keys: %d, source: %s}",
		p.addr, p.opts.prefix, s.index, len(s.pairs), s.source)
}

// OnChange registers fn to receive each new version's change set, debounced
// (WithDebounce). Calls come one at a time from one goroutine; a version
// equal to the last delivered one is not delivered. The returned func
// unregisters fn.
func (p *Provider) OnChange(fn func(Change)) (cancel func()) {
	if fn == nil {
		panic("consulconfig: OnChange with a nil func")
	}
	p.mu.Lock()
	id := p.nextID
	p.nextID++
	p.callbacks = append(p.callbacks, callback{id: id, fn: fn})
	p.mu.Unlock()
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		for i, cb := range p.callbacks {
			if cb.id == id {
				p.callbacks = append(p.callbacks[:i:i], p.callbacks[i+1:]...)
				return
			}
		}
	}
}

type callback struct {
	id uint64
	fn func(Change)
}
