package consulconfig

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestAgentRestartAndOutage(t *testing.T) {
	a := startAgent(t)
	for i := range 60 { // raise the index well above a fresh agent's
		a.Put(fmt.Sprintf("config/r/filler/%d", i), "x")
	}
	a.Put("config/r/k", "1")
	p := newProvider(t, a.Addr())
	require.Equal(t, 1, p.GetInt("r.k", 0))
	oldIndex := p.Index()

	// Down: the last known good configuration is served.
	a.Stop()
	waitFor(t, 10*time.Second, "errors while the agent is down", func() bool {
		return metricValue(t, p.metrics.errors.WithLabelValues(errKindConnection)) >= 3
	})
	require.Equal(t, 1, p.GetInt("r.k", 0))
	require.Equal(t, "x", p.GetString("r.filler.59", ""))
	require.Equal(t, oldIndex, p.Index())

	// Back, empty and with its index started over (dev mode keeps data in
	// memory); a write made right after the restart is seen.
	a.Start()
	a.Put("config/r/k", "2")
	waitFor(t, 15*time.Second, "the write after the restart", func() bool { return p.GetInt("r.k", 0) == 2 })
	require.Less(t, p.Index(), oldIndex, "the restarted agent's index starts over")
	require.Equal(t, "gone", p.GetString("r.filler.59", "gone"))

	// And the watch goes on blocking on the new index.
	a.Put("config/r/k", "3")
	waitFor(t, 10*time.Second, "a later write", func() bool { return p.GetInt("r.k", 0) == 3 })
}

// faultProxy stands between the provider and the agent. Its mode decides
// what each request gets: the agent's answer, a 500, a hang until the
// client gives up, or an empty answer with or without a known leader.
type faultProxy struct {
	srv       *httptest.Server
	transport *http.Transport
	mode      atomic.Int32
	requests  [6]atomic.Int64 // by mode
	lastToken atomic.Value    // string: X-Consul-Token of the last request
	lastQuery atomic.Value    // url.Values of the last request
}

const (
	modePass int32 = iota
	mode500
	modeHang
	modeEmptyNoLeader
	modeEmptyLeader
	modeStuckIndex // the agent's answer, with X-Consul-Index always 1
)

func newFaultProxy(t *testing.T, target string) *faultProxy {
	u, err := url.Parse("http://" + target)
	require.NoError(t, err)
	fp := &faultProxy{transport: &http.Transport{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = fp.transport
	rp.ModifyResponse = func(resp *http.Response) error {
		if fp.mode.Load() == modeStuckIndex {
			resp.Header.Set("X-Consul-Index", "1")
		}
		return nil
	}
	stop := make(chan struct{})
	fp.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := fp.mode.Load()
		fp.requests[m].Add(1)
		fp.lastToken.Store(r.Header.Get("X-Consul-Token"))
		fp.lastQuery.Store(r.URL.Query())
		switch m {
		case mode500:
			http.Error(w, "injected failure", http.StatusInternalServerError)
		case modeHang:
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		case modeEmptyNoLeader, modeEmptyLeader:
			w.Header().Set("X-Consul-Index", "100000")
			w.Header().Set("X-Consul-LastContact", "0")
			w.Header().Set("X-Consul-KnownLeader", fmt.Sprint(m == modeEmptyLeader))
			w.WriteHeader(http.StatusNotFound)
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(func() {
		close(stop)
		fp.srv.Close()
		fp.transport.CloseIdleConnections()
	})
	return fp
}

func (fp *faultProxy) Addr() string { return fp.srv.Listener.Addr().String() }

func TestFaultProxy500HangAndLeaderRule(t *testing.T) {
	a := startAgent(t)
	a.Put("config/k", "1")
	fp := newFaultProxy(t, a.Addr())
	ignore := goleak.IgnoreCurrent()

	p := newProvider(t, fp.Addr(), WithWaitTime(time.Second), WithBackoff(20*time.Millisecond, 200*time.Millisecond))
	require.Equal(t, 1, p.GetInt("k", 0))

	// 500s: errors counted, retries paced by the backoff, the last known
	// good value served.
	fp.mode.Store(mode500)
	time.Sleep(2 * time.Second)
	n500 := fp.requests[mode500].Load()
	require.GreaterOrEqual(t, n500, int64(3), "the provider kept retrying")
	// Without backoff a 500 loop on loopback makes thousands of requests in
	// 2 s; equal jitter from 20 ms doubling to 200 ms allows about 20.
	require.LessOrEqual(t, n500, int64(30), "retries are backed off")
	require.GreaterOrEqual(t, metricValue(t, p.metrics.errors.WithLabelValues(errKindStatus)), 3.0)
	require.Equal(t, 1, p.GetInt("k", 0))

	// Hangs: each request ends at its deadline (wait + wait/16 + 1s).
	fp.mode.Store(modeHang)
	waitFor(t, 10*time.Second, "a request deadline", func() bool {
		return metricValue(t, p.metrics.errors.WithLabelValues(errKindTimeout)) >= 1
	})
	require.Equal(t, 1, p.GetInt("k", 0))

	// Healthy again: a change comes through.
	fp.mode.Store(modePass)
	a.Put("config/k", "2")
	waitFor(t, 10*time.Second, "recovery after the faults", func() bool { return p.GetInt("k", 0) == 2 })

	// An empty answer without a known leader does not wipe the snapshot...
	fp.mode.Store(modeEmptyNoLeader)
	waitFor(t, 10*time.Second, "empty answers without a leader", func() bool {
		return metricValue(t, p.metrics.errors.WithLabelValues(errKindNoLeader)) >= 2
	})
	require.Equal(t, 2, p.GetInt("k", 0))
	// ...one with a known leader does: the prefix is really empty.
	fp.mode.Store(modeEmptyLeader)
	waitFor(t, 10*time.Second, "the empty answer with a leader", func() bool { return p.GetInt("k", -1) == -1 })

	fp.mode.Store(modePass)
	a.Put("config/k", "3")
	waitFor(t, 10*time.Second, "recovery", func() bool { return p.GetInt("k", 0) == 3 })

	// A server whose index never moves answers every query at once: those
	// wake-ups bring no change and are paced by the rate limiter, and a real
	// change still comes through.
	fp.mode.Store(modeStuckIndex)
	time.Sleep(2 * time.Second)
	stuck := fp.requests[modeStuckIndex].Load()
	require.GreaterOrEqual(t, stuck, int64(3))
	require.LessOrEqual(t, stuck, int64(25), "idle wake-ups are rate limited (5/s, burst 10)")
	a.Put("config/k", "4")
	waitFor(t, 10*time.Second, "a change while the index is stuck", func() bool { return p.GetInt("k", 0) == 4 })

	require.NoError(t, p.Close())
	fp.transport.CloseIdleConnections()
	// Every goroutine the provider started is gone, hung requests included.
	goleak.VerifyNone(t, ignore)
}

func TestConnectionSettingsReachTheWire(t *testing.T) {
	a := startAgent(t)
	a.Put("config/k", "1")
	fp := newFaultProxy(t, a.Addr())
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("file-token\n"), 0o600))

	p := newProvider(t, fp.Addr(), WithToken("option-token"), WithTokenFile(tokenFile),
		WithDatacenter("dc1"), WithConsistency(ConsistencyStale))
	require.Equal(t, 1, p.GetInt("k", 0))
	require.Equal(t, "file-token", fp.lastToken.Load(), "the token file wins over the token")
	q := fp.lastQuery.Load().(url.Values)
	require.Equal(t, "dc1", q.Get("dc"))
	require.True(t, q.Has("stale"))
	require.True(t, q.Has("recurse"))
	require.NoError(t, p.Close())

	// The CONSUL_* environment variables apply when no option is given.
	t.Setenv("CONSUL_HTTP_ADDR", fp.Addr())
	t.Setenv("CONSUL_HTTP_TOKEN", "env-token")
	p2, err := New(context.Background(), WithConsistency(ConsistencyConsistent))
	require.NoError(t, err)
	require.Equal(t, 1, p2.GetInt("k", 0))
	require.Equal(t, "env-token", fp.lastToken.Load())
	require.True(t, fp.lastQuery.Load().(url.Values).Has("consistent"))
	// Closed before the next provider starts, so that its blocking queries
	// cannot be the last one the proxy saw.
	require.NoError(t, p2.Close())

	// Namespace and partition (Consul Enterprise) go on every request. The
	// CE agent behind the proxy may refuse them, so the start is optional.
	p3, err := New(context.Background(), WithAddress(fp.Addr()), WithNamespace("team-a"), WithPartition("part-b"),
		WithOptionalStart())
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		q := fp.lastQuery.Load().(url.Values)
		return q.Get("ns") == "team-a" && q.Get("partition") == "part-b"
	}, 10*time.Second, 10*time.Millisecond, "namespace and partition on the wire, last query %v", fp.lastQuery.Load())
	require.NoError(t, p3.Close())

	// TLS files are loaded: a missing CA file fails New.
	_, err = New(context.Background(), WithAddress(fp.Addr()), WithTLS(TLS{CAFile: filepath.Join(t.TempDir(), "missing-ca.pem")}))
	require.Error(t, err)
}
