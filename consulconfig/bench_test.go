package consulconfig

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/spf13/viper"
	"go.uber.org/zap"
)

// benchKeys fills the prefix with a small, realistic configuration.
func benchKeys(a *agent, prefix string) {
	a.Put(prefix+"BALDUR/SLA/DEFAULT_HOURS", "24")
	a.Put(prefix+"BALDUR/SLA/RATIO", "0.75")
	a.Put(prefix+"BALDUR/FEATURE/ENABLED", "true")
	for i := range 50 {
		a.Put(fmt.Sprintf("%sBALDUR/SERVICE%02d/TIMEOUT", prefix, i), strconv.Itoa(i))
	}
}

func benchProvider(b *testing.B, addr, prefix string) *Provider {
	b.Helper()
	p, err := New(context.Background(), WithAddress(addr), WithPrefix(prefix), WithLogger(zap.NewNop()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close() })
	return p
}

// BenchmarkGetters compares the provider's getters with Viper's GetInt on
// the same data, in the same run.
func BenchmarkGetters(b *testing.B) {
	a := startAgent(b)
	benchKeys(a, "config/")
	p := benchProvider(b, a.Addr(), "config/")
	const key = "BALDUR.SLA.DEFAULT_HOURS"
	if p.GetInt(key, 0) != 24 {
		b.Fatal("bench data missing")
	}
	v := viper.New()
	if err := v.MergeConfigMap(p.GetSection("")); err != nil {
		b.Fatal(err)
	}
	if v.GetInt(key) != 24 {
		b.Fatalf("viper reads %d", v.GetInt(key))
	}
	var sinkAny any
	var sinkInt int
	b.Run("consulconfig/Get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkAny = p.Get(key, nil)
		}
	})
	b.Run("consulconfig/GetInt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkInt = p.GetInt(key, 0)
		}
	})
	b.Run("consulconfig/GetInt-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			n := 0
			for pb.Next() {
				n += p.GetInt(key, 0)
			}
			_ = n
		})
	})
	b.Run("viper/GetInt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			sinkInt = v.GetInt(key)
		}
	})
	_, _ = sinkAny, sinkInt
}

// BenchmarkEditToVisible measures the time from the start of a KV write to
// the moment the new value is visible, through the provider and through a
// bare blocking List loop, on the same agent in the same run. The two are
// interleaved (one edit each per iteration), so both see the same machine
// load. It reports p50 and p99 of each and the ratio of the p99s (run with
// -benchtime 200x for 200 edits each).
func BenchmarkEditToVisible(b *testing.B) {
	a := startAgent(b)
	benchKeys(a, "edit/provider/")
	benchKeys(a, "edit/bare/")

	// The bare loop every Consul watcher starts from: block on the index,
	// read the one key, repeat.
	var seen atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	cfg := api.DefaultConfig()
	cfg.Address = a.Addr()
	c, err := api.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		defer close(done)
		var index uint64
		for ctx.Err() == nil {
			kvs, meta, err := c.KV().List("edit/bare/", (&api.QueryOptions{WaitIndex: index, WaitTime: time.Minute}).WithContext(ctx))
			if err != nil {
				index = 0
				continue
			}
			for _, kv := range kvs {
				if kv.Key == "edit/bare/k" {
					n, _ := strconv.ParseInt(string(kv.Value), 10, 64)
					seen.Store(n)
				}
			}
			index = meta.LastIndex
		}
	}()
	defer func() {
		cancel()
		<-done
		cfg.HttpClient.CloseIdleConnections()
	}()
	p := benchProvider(b, a.Addr(), "edit/provider/")
	viaProvider := func() int64 {
		v, _ := p.Get("k", int64(0)).(int64)
		return v
	}

	edit := func(key string, i int64, visible func() int64) time.Duration {
		start := time.Now()
		a.Put(key, strconv.FormatInt(i, 10))
		for visible() != i {
			runtime.Gosched()
		}
		return time.Since(start)
	}
	var bare, prov []time.Duration
	i := int64(1000)
	for b.Loop() {
		i++
		bare = append(bare, edit("edit/bare/k", i, seen.Load))
		prov = append(prov, edit("edit/provider/k", i, viaProvider))
	}
	pct := func(lat []time.Duration, q float64) float64 {
		lat = slices.Clone(lat)
		slices.Sort(lat)
		return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(bare, 0.50), "bare-p50-ms")
	b.ReportMetric(pct(bare, 0.99), "bare-p99-ms")
	b.ReportMetric(pct(prov, 0.50), "p50-ms")
	b.ReportMetric(pct(prov, 0.99), "p99-ms")
	b.ReportMetric(pct(prov, 0.99)/pct(bare, 0.99), "p99-ratio")
	b.ReportMetric(float64(len(prov)), "edits")
}

// BenchmarkBuildSnapshot is the work a change costs before it is visible:
// parsing and merging the 53 entries of the benchmarks above.
func BenchmarkBuildSnapshot(b *testing.B) {
	pairs := []pair{
		{Key: "config/BALDUR/FEATURE/ENABLED", Value: []byte("true")},
		{Key: "config/BALDUR/SLA/DEFAULT_HOURS", Value: []byte("24")},
		{Key: "config/BALDUR/SLA/RATIO", Value: []byte("0.75")},
	}
	for i := range 50 {
		pairs = append(pairs, pair{Key: fmt.Sprintf("config/BALDUR/SERVICE%02d/TIMEOUT", i), Value: []byte(strconv.Itoa(i))})
	}
	slices.SortFunc(pairs, func(x, y pair) int { return strings.Compare(x.Key, y.Key) })
	bl := builder{prefix: "config/", maxValueSize: DefaultMaxValueSize}
	prev, _ := bl.build(pairs, 1, nil, "consul")
	b.ReportAllocs()
	for b.Loop() {
		s, _ := bl.build(pairs, 2, prev, "consul")
		prev = s
	}
}
