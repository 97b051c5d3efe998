package integration

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/crosscluster"
	"github.com/baldur-go/baldur/etcdstore"
)

// syncProcKB reads a "VmRSS"-style field of /proc/<pid>/status in KiB.
func syncProcKB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// syncFillPolicies writes n valid policies into c in transactions of 100.
func syncFillPolicies(tb testing.TB, c *clientv3.Client, origin string, n int) {
	keys := etcdstore.NewKeys(syncPrefix)
	for start := 0; start < n; start += 100 {
		var ops []clientv3.Op
		for i := start; i < min(start+100, n); i++ {
			max := float64(i)
			rec := crosscluster.Policy{
				ID: fmt.Sprintf("%s-policy-%05d", origin, i), ConfigType: fmt.Sprintf("type-%d", i%50), Version: 1,
				CreatedBy: "bench", CreatedAt: 1.7e9, Origin: origin,
				Rules: []crosscluster.Rule{{Field: "failure_threshold", Max: &max}, {Field: "mode", Allowed: []any{"a", "b"}}},
			}.Record()
			b, err := baldur.EncodeRecord(rec)
			require.NoError(tb, err)
			ops = append(ops, clientv3.OpPut(keys.Policy(rec["policy_id"].(string)), string(b)))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := c.Txn(ctx).Then(ops...).Commit()
		cancel()
		require.NoError(tb, err)
	}
}

// BenchmarkSyncAgentRSS measures the resident memory of one agent process
// (the binary TestMain built, without -race) that replicated 10,000
// policies from two peers (5,000 each) and keeps watching them. Reported:
// rss-MiB after the copy has settled, peak-MiB (VmHWM), and the seconds the
// initial copy took.
func BenchmarkSyncAgentRSS(b *testing.B) { syncBenchRSS(b, false) }

// BenchmarkSyncAgentRSSEmbedded is the same with the agent's default
// embedded etcd: the process then holds etcd and its 10,000 records too.
func BenchmarkSyncAgentRSSEmbedded(b *testing.B) { syncBenchRSS(b, true) }

func syncBenchRSS(b *testing.B, embedded bool) {
	for b.Loop() {
		b.StopTimer()
		clusters := syncStartClusters(b, syncNames...)
		east, west, central := clusters[0], clusters[1], clusters[2]
		syncFillPolicies(b, west.cli, "west", 5000)
		syncFillPolicies(b, central.cli, "central", 5000)
		var a *syncAgent
		start := time.Now()
		b.StartTimer()
		if embedded {
			// The agent's own etcd replaces the test's east member.
			east.close()
			require.NoError(b, os.RemoveAll(east.dir))
			a = syncStartAgent(b, "east", []string{"--cluster", "east", "--data-dir", east.dir,
				"--embed-client-url", east.clientURL, "--embed-peer-url", east.peerURL,
				"--peer", "west=" + west.clientURL, "--peer", "central=" + central.clientURL}, nil)
		} else {
			a = syncAgentFor(b, east, clusters)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			resp, err := east.cli.Get(context.Background(), syncKeys.Family(etcdstore.FamilyPolicy), clientv3.WithPrefix(), clientv3.WithCountOnly())
			require.NoError(b, err)
			if resp.Count == 10000 {
				break
			}
			require.True(b, time.Now().Before(deadline), "copy not finished: %d", resp.Count)
			time.Sleep(20 * time.Millisecond)
		}
		copied := time.Since(start)
		b.StopTimer()
		time.Sleep(2 * time.Second) // let the heap settle as it would in service
		a.mu.Lock()
		pid := a.cmd.Process.Pid
		a.mu.Unlock()
		rss, err := syncProcKB(pid, "VmRSS")
		require.NoError(b, err)
		hwm, err := syncProcKB(pid, "VmHWM")
		require.NoError(b, err)
		b.ReportMetric(float64(rss)/1024, "rss-MiB")
		b.ReportMetric(float64(hwm)/1024, "peak-MiB")
		b.ReportMetric(copied.Seconds(), "copy-s")
		require.Equal(b, 0, a.term())
		b.StartTimer()
	}
}
