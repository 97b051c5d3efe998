package consulconfig

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/config"
)

// newProvider starts a provider against addr with test-sized timings,
// closed in t.Cleanup.
func newProvider(t *testing.T, addr string, opts ...Option) *Provider {
	t.Helper()
	base := []Option{
		WithAddress(addr),
		WithLogger(zaptest.NewLogger(t, zaptest.Level(zapcore.ErrorLevel))),
		WithWaitTime(10 * time.Second),
		WithBackoff(20*time.Millisecond, 300*time.Millisecond),
		WithDebounce(20*time.Millisecond, 200*time.Millisecond),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := New(ctx, append(base, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	return p
}

func TestGettersReadTheKVTree(t *testing.T) {
	a := startAgent(t)
	a.Put("config/BALDUR/SLA/DEFAULT_HOURS", "24")
	a.Put("config/BALDUR/SLA/RATIO", "0.75")
	a.Put("config/BALDUR/FEATURE/ENABLED", "yes")
	a.Put("config/BALDUR/NAME", "baldur")
	a.Put("config/BALDUR/LIMITS", `{"rps": 100, "burst": [1, 2]}`)
	a.Put("config/BALDUR/LIMITS/extra", "7") // merges into the JSON object above
	a.Put("config/BALDUR/EMPTY", "")
	a.Put("config/folder/", "")      // a folder key: ignored
	a.Put("other/BALDUR/NAME", "no") // outside the prefix

	p := newProvider(t, a.Addr())
	var _ config.ConfigProvider = p

	require.Equal(t, int64(24), p.Get("BALDUR.SLA.DEFAULT_HOURS", nil))
	require.Equal(t, 24, p.GetInt("BALDUR.SLA.DEFAULT_HOURS", 0))
	require.Equal(t, 0.75, p.GetFloat("BALDUR.SLA.RATIO", 0))
	require.True(t, p.GetBool("BALDUR.FEATURE.ENABLED", false))
	require.Equal(t, "baldur", p.GetString("BALDUR.NAME", ""))
	require.Equal(t, "", p.Get("BALDUR.EMPTY", "default"), "an empty value is a value")
	require.Equal(t, "def", p.Get("BALDUR.MISSING", "def"))
	require.Equal(t, 5, p.GetInt("BALDUR.NAME", 5), "a non-number reads as the default")
	require.Equal(t, int64(100), p.Get("BALDUR.LIMITS.rps", nil))
	require.Equal(t, int64(7), p.Get("BALDUR.LIMITS.extra", nil))
	require.Equal(t, int64(24), p.GetNested([]string{"BALDUR", "SLA", "DEFAULT_HOURS"}, nil))
	require.Equal(t, "d", p.GetNested([]string{"BALDUR", "NOPE"}, "d"))
	require.Equal(t, "d", p.Get("NAME", "d"), "keys outside the prefix are not read")
	require.Equal(t, "d", p.Get("folder", "d"))

	sla := p.GetSection("BALDUR.SLA")
	require.Equal(t, map[string]any{"DEFAULT_HOURS": int64(24), "RATIO": 0.75}, sla)
	sec := p.GetSection("BALDUR")
	require.Equal(t, map[string]any{"rps": int64(100), "burst": []any{int64(1), int64(2)}, "extra": int64(7)}, sec["LIMITS"])
	require.Empty(t, p.GetSection("BALDUR.NAME"), "a scalar is not a section")
	require.NotNil(t, p.GetSection("NOPE"))

	// What comes back is the caller's copy.
	sec["LIMITS"].(map[string]any)["rps"] = 1
	lim := p.Get("BALDUR.LIMITS", nil).(map[string]any)
	lim["burst"].([]any)[0] = "x"
	require.Equal(t, int64(100), p.Get("BALDUR.LIMITS.rps", nil))
	require.Equal(t, []any{int64(1), int64(2)}, p.Get("BALDUR.LIMITS.burst", nil))
	require.NotZero(t, p.Index())
}

func TestLiveUpdatesAndOnChange(t *testing.T) {
	a := startAgent(t)
	a.Put("config/app/a", "1")
	a.Put("config/app/b", "2")
	p := newProvider(t, a.Addr())

	var mu sync.Mutex
	var got []Change
	p.OnChange(func(c Change) {
		mu.Lock()
		got = append(got, c)
		mu.Unlock()
	})
	changes := func() []Change {
		mu.Lock()
		defer mu.Unlock()
		return append([]Change(nil), got...)
	}

	a.Put("config/app/a", "10") // changed
	a.Put("config/app/c", "3")  // added
	a.Delete("config/app/b")    // removed
	waitFor(t, 10*time.Second, "the edits to reach Get", func() bool {
		return p.GetInt("app.a", 0) == 10 && p.GetInt("app.c", 0) == 3 && p.Get("app.b", nil) == nil
	})
	waitFor(t, 10*time.Second, "OnChange", func() bool {
		var all Change
		for _, c := range changes() {
			all.Added = append(all.Added, c.Added...)
			all.Changed = append(all.Changed, c.Changed...)
			all.Removed = append(all.Removed, c.Removed...)
		}
		return strings.Join(all.Added, ",") == "app.c" && strings.Join(all.Changed, ",") == "app.a" &&
			strings.Join(all.Removed, ",") == "app.b"
	})
	n := len(changes())

	// Writing the same value again, or changing a key and changing it back
	// within the quiet period, delivers nothing.
	idx := p.Index()
	a.Put("config/app/a", "10")
	a.Put("config/app/c", "4")
	a.Put("config/app/c", "3")
	a.Put("config/app/zz", "marker") // then a real change, so we know the watch caught up
	waitFor(t, 10*time.Second, "the marker", func() bool { return p.GetString("app.zz", "") == "marker" })
	require.Greater(t, p.Index(), idx)
	waitFor(t, 10*time.Second, "the marker's change set", func() bool { return len(changes()) > n })
	time.Sleep(300 * time.Millisecond) // past the max quiet period
	last := changes()[n:]
	var added, changed []string
	for _, c := range last {
		added = append(added, c.Added...)
		changed = append(changed, c.Changed...)
	}
	require.Equal(t, []string{"app.zz"}, added)
	require.NotContains(t, changed, "app.a", "rewriting the same value is no change")
}

func TestOnChangeCancelAndPanic(t *testing.T) {
	a := startAgent(t)
	p := newProvider(t, a.Addr())
	calls := make(chan Change, 10)
	cancel := p.OnChange(func(c Change) { calls <- c })
	p.OnChange(func(Change) { panic("callback bug") }) // logged, the watch goes on
	a.Put("config/x", "1")
	select {
	case c := <-calls:
		require.Equal(t, []string{"x"}, c.Added)
	case <-time.After(10 * time.Second):
		t.Fatal("no change delivered")
	}
	cancel()
	a.Put("config/y", "1")
	waitFor(t, 10*time.Second, "y", func() bool { return p.GetInt("y", 0) == 1 })
	time.Sleep(300 * time.Millisecond)
	require.Empty(t, calls, "a cancelled callback is not called")
}

func TestDocumentsMergeIntoTheTree(t *testing.T) {
	a := startAgent(t)
	a.Put("config/app.yaml", "BALDUR:\n  SLA:\n    DEFAULT_HOURS: 12\n    TIERS: [gold, silver]\n  NAME: from-yaml\n")
	a.Put("config/base.json", `{"BALDUR": {"SLA": {"DEFAULT_HOURS": 1, "GRACE": 5}, "JSON_ONLY": true}}`)
	a.Put("config/BALDUR/NAME", "from-key") // keys win over documents
	p := newProvider(t, a.Addr(), WithDocument("config/base.json"), WithDocument("config/app.yaml"))

	require.Equal(t, 12, p.GetInt("BALDUR.SLA.DEFAULT_HOURS", 0), "later documents win")
	require.Equal(t, 5, p.GetInt("BALDUR.SLA.GRACE", 0))
	require.Equal(t, true, p.Get("BALDUR.JSON_ONLY", nil))
	require.Equal(t, "from-key", p.GetString("BALDUR.NAME", ""))
	require.Equal(t, []any{"gold", "silver"}, p.Get("BALDUR.SLA.TIERS", nil))
	require.Nil(t, p.GetNested([]string{"app.yaml"}, nil), "a document is not a key of its own")

	// A broken document keeps its last good version and is reported.
	a.Put("config/app.yaml", "BALDUR: [unclosed\n")
	a.Put("config/marker", "1")
	waitFor(t, 10*time.Second, "the marker", func() bool { return p.GetInt("marker", 0) == 1 })
	require.Equal(t, 12, p.GetInt("BALDUR.SLA.DEFAULT_HOURS", 0))
	require.Equal(t, 1.0, metricValue(t, p.metrics.errors.WithLabelValues(errKindDocument)))

	// A fixed document applies.
	a.Put("config/app.yaml", "BALDUR:\n  SLA:\n    DEFAULT_HOURS: 48\n")
	waitFor(t, 10*time.Second, "the fixed document", func() bool { return p.GetInt("BALDUR.SLA.DEFAULT_HOURS", 0) == 48 })
	require.Nil(t, p.Get("BALDUR.SLA.TIERS", nil))
	require.Equal(t, 5, p.GetInt("BALDUR.SLA.GRACE", 0))
}

func TestOddValuesNeverCrash(t *testing.T) {
	a := startAgent(t)
	big := "[" + strings.Repeat("1,", 5000) + "1]"
	a.Put("config/odd/notjson", "{not json")
	a.Put("config/odd/brackets", "[x]")
	a.Put("config/odd/binary", "\x00\xff\xfe")
	a.Put("config/odd/big", big)
	a.Put("config/odd/scalar", "1")
	a.Put("config/odd/scalar/child", "2") // an object shadows the scalar at the same path
	a.Put("config/odd//double", "3")
	core, logs := observer.New(zapcore.WarnLevel)
	p := newProvider(t, a.Addr(), WithMaxValueSize(1024), WithLogger(zap.New(core)))

	require.Equal(t, "{not json", p.Get("odd.notjson", nil))
	require.Equal(t, "[x]", p.Get("odd.brackets", nil))
	require.Equal(t, "\x00\xff\xfe", p.Get("odd.binary", nil))
	require.Equal(t, big, p.Get("odd.big", nil), "an oversized value is kept as its raw string")
	require.Equal(t, 2, p.GetInt("odd.scalar.child", 0))
	require.Equal(t, 3, p.GetInt("odd.double", 0))
	require.Equal(t, 1.0, metricValue(t, p.metrics.errors.WithLabelValues(errKindOversized)))
	require.Equal(t, 1.0, metricValue(t, p.metrics.errors.WithLabelValues(errKindShadowed)))
	require.Equal(t, 1, logs.FilterField(zap.String("key", "config/odd/big")).Len())
}

func TestSecretsAreMasked(t *testing.T) {
	a := startAgent(t)
	a.Put("config/db/PASSWORD", "hunter2")
	a.Put("config/db/api_key", "k-123")
	a.Put("config/db/Token", "t-456")
	a.Put("config/db/host", "db.local")
	a.Put("config/db/opts", `{"client_secret": "s-789", "port": 5432}`)
	core, logs := observer.New(zapcore.DebugLevel)
	p := newProvider(t, a.Addr(), WithLogger(zap.New(core)))
	a.Put("config/db/PASSWORD", "hunter3")
	waitFor(t, 10*time.Second, "the new password", func() bool { return p.GetString("db.PASSWORD", "") == "hunter3" })

	d := p.Dump()
	for _, secret := range []string{"hunter", "k-123", "t-456", "s-789"} {
		require.NotContains(t, d, secret)
		require.NotContains(t, p.String(), secret)
		for _, e := range logs.All() {
			require.NotContains(t, e.Message, secret)
			for _, v := range e.ContextMap() {
				require.NotContains(t, toText(v), secret)
			}
		}
	}
	require.Contains(t, d, `db.host = "db.local"`)
	require.Contains(t, d, "db.PASSWORD = "+Masked)
	require.Contains(t, d, "db.opts.port = 5432")
	require.Contains(t, d, "db.opts.client_secret = "+Masked)
	for _, k := range []string{"a.Password", "x/SECRET_ID", "api_key", "TOKEN", "monkey"} {
		require.True(t, IsSecretKey(k), k)
	}
	for _, k := range []string{"db.host", "password.host", "keys/port"} {
		require.False(t, IsSecretKey(k), k)
	}
}

func toText(v any) string { return fmt.Sprint(v) }

func TestMetrics(t *testing.T) {
	a := startAgent(t)
	a.Put("config/k", "v")
	reg := prometheus.NewRegistry()
	p := newProvider(t, a.Addr(), WithRegisterer(reg))
	a.Put("config/k", "w")
	waitFor(t, 10*time.Second, "the edit", func() bool { return p.GetString("k", "") == "w" })

	require.GreaterOrEqual(t, metricValue(t, p.metrics.requests), 2.0)
	require.Equal(t, float64(p.Index()), metricValue(t, p.metrics.index))
	require.GreaterOrEqual(t, metricValue(t, p.metrics.reloads), 1.0)
	age := metricValue(t, p.metrics.successAge)
	require.True(t, age >= 0 && age < 30, "age %v", age)
	families, err := reg.Gather()
	require.NoError(t, err)
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	require.Subset(t, names, []string{"baldur_consulconfig_requests_total", "baldur_consulconfig_index",
		"baldur_consulconfig_last_contact_seconds", "baldur_consulconfig_last_success_age_seconds",
		"baldur_consulconfig_reloads_total"})

	// A second provider on the same prefix and registry is refused.
	_, err = New(context.Background(), WithAddress(a.Addr()), WithRegisterer(reg))
	require.Error(t, err)
	// Close unregisters: the next one registers fine.
	require.NoError(t, p.Close())
	p2 := newProvider(t, a.Addr(), WithRegisterer(reg))
	require.Equal(t, "w", p2.GetString("k", ""))
}

func TestStartIsFailFastUnlessOptional(t *testing.T) {
	dead := "127.0.0.1:" + strconv.Itoa(freePort(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := New(ctx, WithAddress(dead))
	require.Error(t, err)
	require.Contains(t, err.Error(), dead)

	p, err := New(ctx, WithAddress(dead), WithOptionalStart(), WithBackoff(10*time.Millisecond, 50*time.Millisecond))
	require.NoError(t, err)
	require.Equal(t, "d", p.Get("anything", "d"))
	waitFor(t, 10*time.Second, "retries", func() bool {
		return metricValue(t, p.metrics.errors.WithLabelValues(errKindConnection)) >= 3
	})
	require.NoError(t, p.Close())
	require.NoError(t, p.Close(), "Close is idempotent")
}

func TestSnapshotFileServesWhileConsulIsDown(t *testing.T) {
	a := startAgent(t)
	a.Put("config/svc/timeout", "30")
	a.Put("config/svc/password", "p")
	file := filepath.Join(t.TempDir(), "snap.json")

	p := newProvider(t, a.Addr(), WithSnapshotFile(file))
	a.Put("config/svc/timeout", "45")
	waitFor(t, 10*time.Second, "the edit", func() bool { return p.GetInt("svc.timeout", 0) == 45 })
	require.NoError(t, p.Close()) // writes the file if it is behind

	fs, err := readSnapshotFile(file)
	require.NoError(t, err)
	require.Equal(t, "config/", fs.Prefix)
	require.Len(t, fs.Pairs, 2)

	a.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = New(ctx, WithAddress(a.Addr()), WithSnapshotFile(file))
	require.Error(t, err, "fail-fast even with a snapshot file")

	p2 := newProvider(t, a.Addr(), WithSnapshotFile(file), WithOptionalStart())
	require.Equal(t, 45, p2.GetInt("svc.timeout", 0), "served from the snapshot file")
	require.Contains(t, p2.String(), "source: file")

	// Consul comes back (empty: dev mode keeps data in memory) with new data.
	a.Start()
	a.Put("config/svc/timeout", "60")
	waitFor(t, 15*time.Second, "recovery", func() bool { return p2.GetInt("svc.timeout", 0) == 60 })
	require.Nil(t, p2.Get("svc.password", nil), "Consul's answer replaces the file's")
}

func TestOptionsCheckTheirInput(t *testing.T) {
	bad := map[string]Option{
		"empty address":    WithAddress(" "),
		"empty token":      WithToken(""),
		"empty token file": WithTokenFile(""),
		"cert without key": WithTLS(TLS{CertFile: "c.pem"}),
		"empty dc":         WithDatacenter(""),
		"empty namespace":  WithNamespace(""),
		"empty partition":  WithPartition(""),
		"bad consistency":  WithConsistency(Consistency(9)),
		"slash prefix":     WithPrefix("/config"),
		"folder document":  WithDocument("config/dir/"),
		"short wait":       WithWaitTime(time.Millisecond),
		"long wait":        WithWaitTime(time.Hour),
		"bad backoff":      WithBackoff(time.Second, time.Millisecond),
		"zero rate":        WithRateLimit(0, 1),
		"bad debounce":     WithDebounce(time.Second, time.Millisecond),
		"zero size":        WithMaxValueSize(0),
		"zero start":       WithStartTimeout(0),
		"empty snapshot":   WithSnapshotFile(""),
		"nil logger":       WithLogger(nil),
		"nil registerer":   WithRegisterer(nil),
	}
	for name, opt := range bad {
		_, err := New(context.Background(), opt)
		require.ErrorIs(t, err, baldur.ErrInvalidArgument, name)
	}
	_, err := New(context.Background(), WithDocument("elsewhere/app.yaml"))
	require.ErrorIs(t, err, baldur.ErrInvalidArgument, "a document outside the prefix")
	_, err = New(context.Background(), WithDocument("config/a.yaml"), WithDocument("config/a.yaml"))
	require.ErrorIs(t, err, baldur.ErrInvalidArgument, "a document twice")
	_, err = New(context.Background(), WithAddress("127.0.0.1:1"), WithTokenFile(filepath.Join(t.TempDir(), "missing")))
	require.Error(t, err, "an unreadable token file")
}

func TestConnectionSettingsFromEnvironment(t *testing.T) {
	a := startAgent(t)
	a.Put("config/env/ok", "true")
	t.Setenv("CONSUL_HTTP_ADDR", "http://"+a.Addr())
	t.Setenv("CONSUL_HTTP_TOKEN", "")
	p, err := New(context.Background(), WithConsistency(ConsistencyConsistent))
	require.NoError(t, err)
	defer p.Close()
	require.True(t, p.GetBool("env.ok", false))
	require.Contains(t, p.String(), a.Addr())

	p2, err := New(context.Background(), WithConsistency(ConsistencyStale), WithDatacenter("dc1"),
		WithPrefix("config/env"))
	require.NoError(t, err)
	defer p2.Close()
	require.True(t, p2.GetBool("ok", false))

	_, err = New(context.Background(), WithDatacenter("nowhere"))
	require.Error(t, err, "an unknown datacenter fails the first read")
	require.False(t, errors.Is(err, baldur.ErrInvalidArgument))
}

func TestIndexRulesAndBackoff(t *testing.T) {
	require.Equal(t, uint64(1), nextIndex(0, 0), "0 becomes 1")
	require.Equal(t, uint64(1), nextIndex(5, 0), "0 becomes 1 whatever came before")
	require.Equal(t, uint64(0), nextIndex(50, 7), "backwards resets to 0")
	require.Equal(t, uint64(51), nextIndex(50, 51))
	require.Equal(t, uint64(50), nextIndex(50, 50))
	lo, hi := 100*time.Millisecond, 2*time.Second
	for n := 1; n < 40; n++ {
		d := backoff(n, lo, hi)
		step := lo << min(n-1, 10)
		step = min(step, hi)
		require.GreaterOrEqual(t, d, step/2, "n=%d", n)
		require.LessOrEqual(t, d, step, "n=%d", n)
	}
	o := defaultOptions()
	require.Greater(t, o.deadline(), o.wait+o.wait/16)
}

// metricValue reads the one value of a counter or gauge collector.
func metricValue(t testing.TB, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	close(ch)
	m, ok := <-ch
	require.True(t, ok, "collector reported no metric")
	var pb dto.Metric
	require.NoError(t, m.Write(&pb))
	switch {
	case pb.Counter != nil:
		return pb.Counter.GetValue()
	case pb.Gauge != nil:
		return pb.Gauge.GetValue()
	}
	t.Fatalf("not a counter or gauge: %v", m.Desc())
	return 0
}

func TestRevertedEditIsNotDelivered(t *testing.T) {
	a := startAgent(t)
	a.Put("config/c", "3")
	p := newProvider(t, a.Addr(), WithDebounce(2*time.Second, 4*time.Second))
	calls := make(chan Change, 10)
	p.OnChange(func(c Change) { calls <- c })

	idx := p.Index()
	a.Put("config/c", "4")
	waitFor(t, 10*time.Second, "the edit", func() bool { return p.GetInt("c", 0) == 4 })
	a.Put("config/c", "3") // undone well within the quiet period
	waitFor(t, 10*time.Second, "the undo", func() bool { return p.GetInt("c", 0) == 3 })
	require.Greater(t, p.Index(), idx, "both versions were installed")
	select {
	case c := <-calls:
		t.Fatalf("an undone edit was delivered: %+v", c)
	case <-time.After(4500 * time.Millisecond): // past the max quiet period
	}
	a.Put("config/c", "5")
	select {
	case c := <-calls:
		require.Equal(t, []string{"c"}, c.Changed)
	case <-time.After(10 * time.Second):
		t.Fatal("a real change was not delivered")
	}
}
