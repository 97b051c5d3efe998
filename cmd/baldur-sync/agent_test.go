package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/baldur-go/baldur"
	"github.com/baldur-go/baldur/crosscluster"
	"github.com/baldur-go/baldur/etcdstore"
	"github.com/baldur-go/baldur/internal/embedetcd"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func testLogger(t *testing.T) *zap.Logger {
	return zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel))
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func startEtcd(t *testing.T, name string) *embedetcd.Server {
	t.Helper()
	s, err := embedetcd.Start(context.Background(), embedetcd.Config{Name: name, Dir: filepath.Join(t.TempDir(), name), UnsafeNoFsync: true})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// An agent with no endpoints starts its own etcd in the data dir and
// replicates from a peer; its HTTP endpoints report it.
func TestSyncAgentEmbeddedAndHTTP(t *testing.T) {
	ctx := context.Background()
	peer := startEtcd(t, "west")

	cfg := DefaultConfig()
	cfg.Cluster = "east"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Embed = EmbedConfig{} // free ports
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Peers = []PeerConfig{{Name: "west", EtcdConfig: EtcdConfig{Endpoints: peer.Endpoints()}}}
	require.NoError(t, cfg.Validate())
	a, err := StartAgent(ctx, cfg, testLogger(t))
	require.NoError(t, err)
	defer a.Close()
	require.FileExists(t, filepath.Join(cfg.DataDir, "member", "snap", "db"), "embedded etcd keeps its data in --data-dir")

	base := "http://" + a.HTTPAddr()
	code, body := httpGet(t, base+"/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)
	require.Eventually(t, func() bool {
		code, _ := httpGet(t, base+"/readyz")
		return code == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)

	// A policy written in west arrives in east's embedded etcd.
	westStore, err := etcdstore.New(a.peers[0])
	require.NoError(t, err)
	defer westStore.Close()
	westSvc, err := crosscluster.NewService(westStore.CrossCluster(), "west")
	require.NoError(t, err)
	require.NoError(t, westSvc.SavePolicy(ctx, crosscluster.Policy{ID: "p1", ConfigType: "cb", Version: 1}))
	eastStore, err := etcdstore.New(a.Local())
	require.NoError(t, err)
	defer eastStore.Close()
	require.Eventually(t, func() bool {
		_, err := eastStore.CrossCluster().GetPolicy(ctx, "p1")
		return err == nil
	}, 10*time.Second, 10*time.Millisecond)

	code, body = httpGet(t, base+"/status")
	require.Equal(t, http.StatusOK, code)
	var st StatusJSON
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	require.Equal(t, "east", st.Cluster)
	require.True(t, st.Ready)
	require.Len(t, st.Peers, 1)
	require.Equal(t, "west", st.Peers[0].Name)
	require.True(t, st.Peers[0].Connected)
	require.GreaterOrEqual(t, st.Peers[0].Replicated, uint64(1))
	require.Positive(t, st.Peers[0].Checkpoint)
	require.Nil(t, st.Consul)

	code, body = httpGet(t, base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	for _, m := range []string{
		`baldur_sync_records_replicated_total{peer="west"}`,
		`baldur_sync_lag_seconds{peer="west"}`,
		`baldur_sync_checkpoint_revision{peer="west"}`,
		`baldur_sync_resyncs_total{peer="west"}`,
		"process_resident_memory_bytes",
	} {
		require.Contains(t, body, m)
	}

	code, _ = httpGet(t, base+"/nope")
	require.Equal(t, http.StatusNotFound, code)
}

// /readyz fails when the local etcd does not answer.
func TestSyncAgentNotReadyWithoutLocalEtcd(t *testing.T) {
	port, err := embedetcd.FreePort()
	require.NoError(t, err)
	cfg := DefaultConfig()
	cfg.Cluster = "east"
	cfg.Etcd.Endpoints = []string{fmt.Sprintf("http://127.0.0.1:%d", port)} // nobody listens
	cfg.HTTPAddr = "127.0.0.1:0"
	require.NoError(t, cfg.Validate())
	a, err := StartAgent(context.Background(), cfg, testLogger(t))
	require.NoError(t, err, "an unreachable etcd is not a start failure")
	defer a.Close()
	code, body := httpGet(t, "http://"+a.HTTPAddr()+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "local etcd not answering")
	code, _ = httpGet(t, "http://"+a.HTTPAddr()+"/healthz")
	require.Equal(t, http.StatusOK, code)
}

// A taken HTTP port fails the start with the field named, and leaves
// nothing running (goleak checks).
func TestSyncAgentStartFailsCleanly(t *testing.T) {
	etcd := startEtcd(t, "east")
	cfg := DefaultConfig()
	cfg.Cluster = "east"
	cfg.Etcd.Endpoints = etcd.Endpoints()
	cfg.HTTPAddr = strings.TrimPrefix(etcd.ClientURL(), "http://") // taken by etcd
	_, err := StartAgent(context.Background(), cfg, testLogger(t))
	require.ErrorContains(t, err, "http_addr")
}

// run exits 0 on SIGTERM (a cancelled context) after a clean stop, and 2
// on a config error.
func TestSyncRunExitCodes(t *testing.T) {
	var stderr bytes.Buffer
	require.Equal(t, exitUsage, run(context.Background(), []string{"--cluster", "a/b"}, envFrom(nil), io.Discard, &stderr))
	require.Contains(t, stderr.String(), "cluster")

	require.Equal(t, exitOK, run(context.Background(), []string{"-h"}, envFrom(nil), io.Discard, io.Discard))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	stderr.Reset()
	var logs syncBuffer
	go func() {
		done <- run(ctx, []string{"--cluster", "east", "--data-dir", t.TempDir(), "--embed-client-url", "",
			"--embed-peer-url", "", "--http-addr", "127.0.0.1:0"}, envFrom(nil), io.Discard, &logs)
	}()
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "baldur-sync started") }, 30*time.Second, 10*time.Millisecond)
	cancel()
	select {
	case code := <-done:
		require.Equal(t, exitOK, code, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	require.Contains(t, logs.String(), "baldur-sync stopped")
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		require.True(t, json.Valid([]byte(line)), "production logs are JSON: %s", line)
	}
}

func TestSyncDemo(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, demo(context.Background(), &out, testLogger(t), false))
	s := out.String()
	for _, want := range []string{
		"arrived in west", "arrived in central",
		"west:    status applied", "east:    status applied", "central: status applied",
		"demo finished",
	} {
		require.Contains(t, s, want)
	}
}

func TestSyncParseConsulPolicy(t *testing.T) {
	const prefix = "baldur/policies/"
	rec, p, err := ParseConsulPolicy(prefix, prefix+"p1", []byte(`{"config_type":"cb","version":2,"rules":[{"field":"x","max":3}]}`))
	require.NoError(t, err)
	require.Equal(t, "p1", p.ID)
	require.Equal(t, int64(2), p.Version)
	require.Equal(t, OriginConsul, rec["origin"])
	require.Equal(t, "p1", rec["policy_id"])

	for name, c := range map[string]struct{ key, value string }{
		"not json":         {prefix + "p1", `{`},
		"not an object":    {prefix + "p1", `[1]`},
		"id mismatch":      {prefix + "p1", `{"policy_id":"p2","config_type":"cb"}`},
		"no config type":   {prefix + "p1", `{"policy_id":"p1"}`},
		"min above max":    {prefix + "p1", `{"config_type":"cb","rules":[{"field":"x","min":5,"max":1}]}`},
		"foreign origin":   {prefix + "p1", `{"config_type":"cb","origin":"east"}`},
		"nested key":       {prefix + "a/b", `{"config_type":"cb"}`},
		"string version":   {prefix + "p1", `{"config_type":"cb","version":"2"}`},
		"rules not a list": {prefix + "p1", `{"config_type":"cb","rules":{}}`},
	} {
		_, _, err := ParseConsulPolicy(prefix, c.key, []byte(c.value))
		require.ErrorIs(t, err, baldur.ErrInvalidArgument, name)
	}
}

// FuzzParseConsulPolicy: never panics; what it accepts is a valid policy
// with origin consul and the key's id.
func FuzzSyncParseConsulPolicy(f *testing.F) {
	f.Add("p1", []byte(`{"config_type":"cb","version":2,"rules":[{"field":"x","max":3}]}`))
	f.Add("p/1", []byte(`{}`))
	f.Add("p1", []byte(`{"policy_id":"p1","config_type":"cb","origin":"consul","rules":[{"field":"x","allowed":[1,"a"]}]}`))
	f.Fuzz(func(t *testing.T, id string, value []byte) {
		rec, p, err := ParseConsulPolicy("pfx/", "pfx/"+id, value)
		if err != nil {
			return
		}
		require.Equal(t, id, p.ID)
		require.Equal(t, OriginConsul, rec["origin"])
		_, err = crosscluster.ValidatePolicy(rec)
		require.NoError(t, err)
	})
}

// syncBuffer is a bytes.Buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
