package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func envFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

const sampleYAML = `
cluster: east
etcd:
  endpoints: [https://10.0.0.1:2379, https://10.0.0.2:2379]
  tls: {ca: /etc/baldur/ca.pem, cert: /etc/baldur/east.pem, key: /etc/baldur/east-key.pem}
  username: sync
  password: s3cret
peers:
  - name: west
    endpoints: [https://west-etcd:2379]
    tls: {ca: /etc/baldur/west-ca.pem}
  - name: central
    endpoints: [central-etcd:2379]
    username: sync
    password: p
prefix: /baldur/
data_dir: /var/lib/baldur-sync
http_addr: 0.0.0.0:9464
log_level: debug
consul:
  address: 127.0.0.1:8500
  prefix: baldur/governance/policies/
  token: abc
`

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sync.yaml")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestSyncConfigDefaults(t *testing.T) {
	cfg, err := LoadConfig([]string{"--cluster", "east"}, envFrom(nil), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "east", cfg.Cluster)
	require.True(t, cfg.Embedded())
	require.Equal(t, DefaultDataDir, cfg.DataDir)
	require.Equal(t, DefaultHTTPAddr, cfg.HTTPAddr)
	require.Equal(t, DefaultPrefix, cfg.Prefix)
	require.Equal(t, "info", cfg.LogLevel)
	require.False(t, cfg.ConsulEnabled())
	require.Empty(t, cfg.Peers)
}

func TestSyncConfigFile(t *testing.T) {
	path := writeFile(t, sampleYAML)
	cfg, err := LoadConfig([]string{"--config", path}, envFrom(nil), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "east", cfg.Cluster)
	require.Equal(t, []string{"https://10.0.0.1:2379", "https://10.0.0.2:2379"}, cfg.Etcd.Endpoints)
	require.Equal(t, TLSConfig{CA: "/etc/baldur/ca.pem", Cert: "/etc/baldur/east.pem", Key: "/etc/baldur/east-key.pem"}, cfg.Etcd.TLS)
	require.Equal(t, "sync", cfg.Etcd.Username)
	require.Equal(t, "s3cret", cfg.Etcd.Password)
	require.Len(t, cfg.Peers, 2)
	require.Equal(t, "west", cfg.Peers[0].Name)
	require.Equal(t, "/etc/baldur/west-ca.pem", cfg.Peers[0].TLS.CA)
	require.Equal(t, []string{"central-etcd:2379"}, cfg.Peers[1].Endpoints)
	require.Equal(t, "p", cfg.Peers[1].Password)
	require.Equal(t, "/var/lib/baldur-sync", cfg.DataDir)
	require.Equal(t, "0.0.0.0:9464", cfg.HTTPAddr)
	require.Equal(t, "debug", cfg.LogLevel)
	require.Equal(t, ConsulConfig{Address: "127.0.0.1:8500", Prefix: "baldur/governance/policies/", Token: "abc"}, cfg.Consul)
	require.False(t, cfg.Embedded())
}

// Precedence: flag > env > file > default, field by field.
func TestSyncConfigPrecedence(t *testing.T) {
	path := writeFile(t, sampleYAML)
	env := map[string]string{
		"BALDUR_SYNC_CONFIG":    path,
		"BALDUR_SYNC_CLUSTER":   "from-env",
		"BALDUR_SYNC_LOG_LEVEL": "warn",
		"BALDUR_SYNC_PREFIX":    "/env/",
		"BALDUR_SYNC_PEERS":     "north=http://n1:2379,http://n2:2379; south=s:2379",
		"BALDUR_SYNC_PEER_CA":   "/env/ca.pem",
	}
	cfg, err := LoadConfig([]string{"--cluster", "from-flag", "--prefix", "/flag/"}, envFrom(env), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "from-flag", cfg.Cluster, "flag beats env")
	require.Equal(t, "/flag/", cfg.Prefix, "flag beats env")
	require.Equal(t, "warn", cfg.LogLevel, "env beats file")
	require.Equal(t, "/var/lib/baldur-sync", cfg.DataDir, "file beats default")
	require.Equal(t, DefaultEmbedClient, cfg.Embed.ClientURL, "default when nobody sets it")
	require.Len(t, cfg.Peers, 2, "env peers replace the file's")
	require.Equal(t, "north", cfg.Peers[0].Name)
	require.Equal(t, []string{"http://n1:2379", "http://n2:2379"}, cfg.Peers[0].Endpoints)
	require.Equal(t, "/env/ca.pem", cfg.Peers[0].TLS.CA)
	require.Equal(t, "south", cfg.Peers[1].Name)

	cfg, err = LoadConfig([]string{"--peer", "up=u:1", "--peer", "down=d:2", "--peer-user", "bob", "--peer-password", "pw"}, envFrom(env), io.Discard)
	require.NoError(t, err)
	require.Equal(t, []PeerConfig{
		{Name: "up", EtcdConfig: EtcdConfig{Endpoints: []string{"u:1"}, Username: "bob", Password: "pw"}},
		{Name: "down", EtcdConfig: EtcdConfig{Endpoints: []string{"d:2"}, Username: "bob", Password: "pw"}},
	}, cfg.Peers, "flag peers replace env peers")

	// An env var set to "" overrides too: empty endpoints mean embedded.
	env["BALDUR_SYNC_ETCD_ENDPOINTS"] = ""
	cfg, err = LoadConfig(nil, envFrom(env), io.Discard)
	require.NoError(t, err)
	require.True(t, cfg.Embedded())
}

func TestSyncConfigErrorsNameTheField(t *testing.T) {
	cases := []struct {
		name  string
		args  []string
		env   map[string]string
		field string
	}{
		{"no cluster", nil, nil, "cluster:"},
		{"slash in cluster", []string{"--cluster", "a/b"}, nil, "cluster:"},
		{"peer is local", []string{"--cluster", "east", "--peer", "east=h:1"}, nil, "peers[0].name"},
		{"duplicate peer", []string{"--cluster", "east", "--peer", "w=h:1", "--peer", "w=h:2"}, nil, "peers[1].name"},
		{"peer without endpoints", []string{"--cluster", "east", "--peer", "w="}, nil, "peers[0].endpoints"},
		{"peer syntax", []string{"--cluster", "east", "--peer", "w"}, nil, "--peer"},
		{"env peer syntax", []string{"--cluster", "east"}, map[string]string{"BALDUR_SYNC_PEERS": "nope"}, "BALDUR_SYNC_PEERS"},
		{"bad endpoint", []string{"--cluster", "east", "--etcd-endpoints", "ftp://x:1"}, nil, "etcd.endpoints[0]"},
		{"endpoint without port", []string{"--cluster", "east", "--etcd-endpoints", "localhost"}, nil, "etcd.endpoints[0]"},
		{"cert without key", []string{"--cluster", "east", "--etcd-cert", "c.pem"}, nil, "etcd.tls"},
		{"password without user", []string{"--cluster", "east", "--etcd-password", "p"}, nil, "etcd.username"},
		{"relative prefix", []string{"--cluster", "east", "--prefix", "baldur"}, nil, "prefix"},
		{"no data dir", []string{"--cluster", "east", "--data-dir", ""}, nil, "data_dir"},
		{"bad http addr", []string{"--cluster", "east", "--http-addr", "nope"}, nil, "http_addr"},
		{"bad log level", []string{"--cluster", "east", "--log-level", "loud"}, nil, "log_level"},
		{"bad embed url", []string{"--cluster", "east", "--embed-client-url", "127.0.0.1:2379"}, nil, "embed.client_url"},
		{"consul without prefix", []string{"--cluster", "east", "--consul-addr", "127.0.0.1:8500", "--consul-prefix", ""}, map[string]string{}, "consul.prefix"},
		{"consul prefix with slash", []string{"--cluster", "east", "--consul-addr", "127.0.0.1:8500", "--consul-prefix", "/p/"}, nil, "consul.prefix"},
		{"token without consul", []string{"--cluster", "east", "--consul-token", "t"}, nil, "consul.address"},
		{"stray argument", []string{"--cluster", "east", "extra"}, nil, "arguments"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(tc.args, envFrom(tc.env), io.Discard)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.field)
		})
	}
}

func TestSyncConfigConsulDefaultPrefix(t *testing.T) {
	cfg, err := LoadConfig([]string{"--cluster", "east", "--consul-addr", "127.0.0.1:8500"}, envFrom(nil), io.Discard)
	require.NoError(t, err)
	require.True(t, cfg.ConsulEnabled())
	require.Equal(t, DefaultConsulPrefix, cfg.Consul.Prefix)
}

func TestSyncConfigFileErrors(t *testing.T) {
	_, err := LoadConfig([]string{"--config", writeFile(t, "cluster: east\nclustr: typo\n")}, envFrom(nil), io.Discard)
	require.ErrorContains(t, err, "clustr")
	require.True(t, errors.Is(err, errConfig))

	_, err = LoadConfig([]string{"--config", writeFile(t, "peers: {name: x}\n")}, envFrom(nil), io.Discard)
	require.ErrorContains(t, err, "config file")

	_, err = LoadConfig([]string{"--config", filepath.Join(t.TempDir(), "missing.yaml")}, envFrom(nil), io.Discard)
	require.ErrorContains(t, err, "config file")

	cfg, err := LoadConfig([]string{"--config", writeFile(t, ""), "--cluster", "c"}, envFrom(nil), io.Discard)
	require.NoError(t, err, "an empty file is the defaults")
	require.Equal(t, DefaultHTTPAddr, cfg.HTTPAddr)
}

func TestSyncConfigHelp(t *testing.T) {
	var sb strings.Builder
	_, err := LoadConfig([]string{"-h"}, envFrom(nil), &sb)
	require.ErrorIs(t, err, flag.ErrHelp)
	for _, s := range settables {
		if s.name != "peers" { // the flag is the repeatable --peer
			require.Contains(t, sb.String(), "-"+s.name+" ")
		}
		require.Contains(t, sb.String(), EnvName(s.name))
	}
}

func TestSyncParsePeers(t *testing.T) {
	p, err := ParsePeers(" a = h1:1 , h2:2 ;; b=https://b:3 ")
	require.NoError(t, err)
	require.Equal(t, []PeerConfig{
		{Name: "a", EtcdConfig: EtcdConfig{Endpoints: []string{"h1:1", "h2:2"}}},
		{Name: "b", EtcdConfig: EtcdConfig{Endpoints: []string{"https://b:3"}}},
	}, p)
	p, err = ParsePeers("")
	require.NoError(t, err)
	require.Empty(t, p)
}

// FuzzConfigYAML: the YAML parser never panics, and a config that parses
// and validates survives a round trip through its own YAML encoding.
func FuzzSyncConfigYAML(f *testing.F) {
	f.Add([]byte(sampleYAML))
	f.Add([]byte("cluster: a\npeers: [{name: b, endpoints: [b:1]}]\n"))
	f.Add([]byte("cluster: [1, 2]\n"))
	f.Add([]byte("{"))
	f.Add([]byte("etcd: {endpoints: null}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfigYAML(data, DefaultConfig())
		if err != nil {
			require.ErrorIs(t, err, errConfig)
			return
		}
		if cfg.Validate() != nil {
			return
		}
		out, err := marshalConfig(cfg)
		require.NoError(t, err)
		again, err := ParseConfigYAML(out, DefaultConfig())
		require.NoError(t, err)
		require.NoError(t, again.Validate())
		require.Equal(t, normalized(cfg), normalized(again))
	})
}

// FuzzConfigEnv: the environment parser (peers above all) never panics and
// every error it returns names the variable.
func FuzzSyncConfigEnv(f *testing.F) {
	f.Add("east", "a=h:1;b=http://x:2", "h1:1,h2:2")
	f.Add("", ";;=", ",,,")
	f.Add("a/b", "x==y", " ")
	f.Fuzz(func(t *testing.T, cluster, peers, endpoints string) {
		env := map[string]string{
			"BALDUR_SYNC_CLUSTER":        cluster,
			"BALDUR_SYNC_PEERS":          peers,
			"BALDUR_SYNC_ETCD_ENDPOINTS": endpoints,
		}
		cfg, err := ApplyEnv(DefaultConfig(), envFrom(env))
		if err != nil {
			require.Contains(t, err.Error(), "BALDUR_SYNC_")
			return
		}
		require.Equal(t, cluster, cfg.Cluster)
		for _, p := range cfg.Peers {
			require.NotContains(t, p.Name, ";")
			for _, ep := range p.Endpoints {
				require.NotEmpty(t, ep)
				require.NotContains(t, ep, ",")
			}
		}
		if err := cfg.Validate(); err != nil {
			require.ErrorIs(t, err, errConfig)
		}
	})
}

func marshalConfig(c Config) ([]byte, error) { return yaml.Marshal(c) }

// normalized maps nil and empty lists to the same value for comparison.
func normalized(c Config) Config {
	if len(c.Etcd.Endpoints) == 0 {
		c.Etcd.Endpoints = nil
	}
	if len(c.Peers) == 0 {
		c.Peers = nil
	}
	for i := range c.Peers {
		if len(c.Peers[i].Endpoints) == 0 {
			c.Peers[i].Endpoints = nil
		}
	}
	return c
}
