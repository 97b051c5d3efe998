package integration

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stretchr/testify/require"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/etcdstore"
	"github.com/baldur-go/baldur/internal/embedetcd"
)

// syncConsulBin finds the Consul agent: $BALDUR_CONSUL_BIN, else
// <module root>/bin/consul (make consul builds it). A missing binary fails
// the test: the import path is tested against the real agent or not at all.
func syncConsulBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("BALDUR_CONSUL_BIN"); p != "" {
		_, err := os.Stat(p)
		require.NoError(t, err, "BALDUR_CONSUL_BIN=%s does not exist", p)
		return p
	}
	root, err := syncModuleRoot()
	require.NoError(t, err)
	p := filepath.Join(root, "bin", "consul")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no Consul agent: set BALDUR_CONSUL_BIN or run `make consul` to build %s (%v)", p, err)
	}
	return p
}

// syncStartConsul runs `consul agent -dev` on free loopback ports and waits
// for its leader. It returns the HTTP address.
func syncStartConsul(t *testing.T) string {
	t.Helper()
	bin := syncConsulBin(t)
	ports := make([]int, 4)
	for i := range ports {
		p, err := embedetcd.FreePort()
		require.NoError(t, err)
		ports[i] = p
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	logPath := filepath.Join(t.TempDir(), "consul.log")
	f, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin, "agent", "-dev", "-bind", "127.0.0.1", "-client", "127.0.0.1",
		"-http-port", fmt.Sprint(ports[0]), "-serf-lan-port", fmt.Sprint(ports[1]),
		"-serf-wan-port", fmt.Sprint(ports[2]), "-server-port", fmt.Sprint(ports[3]),
		"-dns-port", "-1", "-grpc-port", "-1", "-grpc-tls-port", "-1", "-log-level", "warn")
	cmd.Stdout, cmd.Stderr = f, f
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = f.Close(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-done
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("--- consul log ---\n%s", b)
		}
	})
	client := http.Client{Timeout: time.Second}
	syncEventually(t, "consul has a leader", func() bool {
		resp, err := client.Get("http://" + addr + "/v1/status/leader")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var b [64]byte
		n, _ := resp.Body.Read(b[:])
		return resp.StatusCode == http.StatusOK && strings.Contains(string(b[:n]), ":")
	})
	return addr
}

// Governance policies edited in Consul: the agent of east validates them,
// writes the valid ones with origin "consul" into east, from where they
// reach every cluster; invalid ones are reported (status, metric), never
// imported, and the agent stays up. A restart does not rewrite what is
// already there.
func TestSyncConsulImport(t *testing.T) {
	consulAddr := syncStartConsul(t)
	const prefix = "baldur/governance/policies/"
	ac := api.DefaultConfig()
	ac.Address = consulAddr
	cc, err := api.NewClient(ac)
	require.NoError(t, err)
	kv := cc.KV()
	put := func(key, value string) {
		t.Helper()
		_, err := kv.Put(&api.KVPair{Key: prefix + key, Value: []byte(value)}, nil)
		require.NoError(t, err)
	}
	put("limits", `{"config_type":"circuit_breaker","version":1,"created_by":"ops","rules":[{"field":"failure_threshold","min":1,"max":50}]}`)
	put("broken", `{"config_type": "circuit_breaker", `)
	put("minmax", `{"config_type":"circuit_breaker","rules":[{"field":"x","min":9,"max":1}]}`)

	clusters := syncStartClusters(t, syncNames...)
	east := clusters[0]
	agents := map[string]*syncAgent{}
	for _, c := range clusters {
		var env []string
		if c == east {
			// Through the environment, as a container would set it.
			env = []string{"BALDUR_SYNC_CONSUL_ADDR=" + consulAddr, "BALDUR_SYNC_CONSUL_PREFIX=" + prefix}
		}
		agents[c.name] = syncAgentForEnv(t, c, clusters, env)
	}

	policyIn := func(c *syncCluster, id string, version int64) bool {
		rec, err := c.store.CrossCluster().GetPolicy(syncCtx(t), id)
		return err == nil && baldur.VersionOf(rec) == version && rec["origin"] == "consul"
	}
	for _, c := range clusters {
		syncEventually(t, "limits v1 in "+c.name, func() bool { return policyIn(c, "limits", 1) })
	}
	for _, c := range clusters {
		m := c.policies()
		require.NotContains(t, m, "broken")
		require.NotContains(t, m, "minmax")
	}
	st := agents["east"].status()
	require.NotNil(t, st.Consul)
	require.Equal(t, uint64(1), st.Consul.Imported)
	require.Contains(t, st.Consul.Invalid, prefix+"broken")
	require.Contains(t, st.Consul.Invalid, prefix+"minmax")
	require.Contains(t, st.Consul.Invalid[prefix+"minmax"], "min 9 is above max 1")
	metrics := agents["east"].metrics()
	require.Contains(t, metrics, "baldur_sync_consul_policies_invalid_total 2")
	require.Contains(t, metrics, "baldur_sync_consul_policies_invalid 2")
	require.Contains(t, agents["east"].logText(), "invalid governance policy in consul")

	// An edit in Consul (version 2) and a fix of the broken key propagate.
	put("limits", `{"config_type":"circuit_breaker","version":2,"created_by":"ops","rules":[{"field":"failure_threshold","min":1,"max":20}]}`)
	put("broken", `{"config_type":"circuit_breaker","version":1}`)
	for _, c := range clusters {
		syncEventually(t, "limits v2 and broken fixed in "+c.name, func() bool {
			return policyIn(c, "limits", 2) && policyIn(c, "broken", 1)
		})
	}
	syncEventually(t, "one invalid key left", func() bool {
		st := agents["east"].status()
		return len(st.Consul.Invalid) == 1 && st.Consul.Imported == 3
	})
	require.True(t, agents["east"].running())

	// A restart lists Consul again but writes nothing that is already there.
	syncConverged(t, etcdstore.FamilyPolicy, []string{"limits", "broken"}, clusters...)
	require.Equal(t, 0, agents["east"].term())
	before := east.revision()
	agents["east"].start()
	agents["east"].waitReady()
	syncEventually(t, "restarted import listed consul", func() bool {
		st := agents["east"].status()
		return st.Consul != nil && st.Consul.Unchanged == 2
	})
	st = agents["east"].status()
	require.Equal(t, uint64(0), st.Consul.Imported, "nothing re-imported after a restart")
	require.Equal(t, before, east.revision(), "no write in east after the restart")
}

// An unreachable Consul never stops the agent: it stays ready, replicates,
// and reports the failure (status, metric) while it retries.
func TestSyncConsulUnreachable(t *testing.T) {
	port, err := embedetcd.FreePort()
	require.NoError(t, err)
	clusters := syncStartClusters(t, "east", "west")
	east, west := clusters[0], clusters[1]
	a := syncAgentFor(t, east, clusters, "--consul-addr", fmt.Sprintf("127.0.0.1:%d", port))
	syncAgentFor(t, west, clusters)
	syncEventually(t, "consul failure reported", func() bool {
		st := a.status()
		return st.Consul != nil && st.Consul.LastError != ""
	})
	require.Regexp(t, `baldur_sync_consul_errors_total [1-9]`, a.metrics())
	west.savePolicy("still-replicating", 1, 1)
	syncConverged(t, etcdstore.FamilyPolicy, []string{"still-replicating"}, east, west)
	require.True(t, a.running())
}
