package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"

	"go.uber.org/zap/zapcore"
	"gopkg.in/yaml.v3"

	"github.com/baldur-go/baldur"
)

// Defaults of the agent's configuration.
const (
	DefaultPrefix        = "/baldur/"
	DefaultDataDir       = "./data"
	DefaultHTTPAddr      = "127.0.0.1:9464"
	DefaultLogLevel      = "info"
	DefaultEmbedClient   = "http://127.0.0.1:2379"
	DefaultEmbedPeer     = "http://127.0.0.1:2380"
	DefaultConsulPrefix  = "baldur/governance/policies/"
	envPrefix            = "BALDUR_SYNC_"
	maxConfigFileBytes   = 1 << 20
	peerListSeparator    = ";"
	endpointListSeparate = ","
)

// errConfig marks every configuration error; the message names the field.
var errConfig = errors.New("config")

// TLSConfig names the PEM files of a TLS client. All empty: plain text.
type TLSConfig struct {
	CA   string `yaml:"ca"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

func (t TLSConfig) enabled() bool { return t.CA != "" || t.Cert != "" || t.Key != "" }

// EtcdConfig is how to reach one cluster's etcd.
type EtcdConfig struct {
	Endpoints []string  `yaml:"endpoints"`
	TLS       TLSConfig `yaml:"tls"`
	Username  string    `yaml:"username"`
	Password  string    `yaml:"password"`
}

// PeerConfig is one peer cluster.
type PeerConfig struct {
	Name       string `yaml:"name"`
	EtcdConfig `yaml:",inline"`
}

// ConsulConfig enables the optional import of governance policies from a
// Consul KV prefix. An empty Address disables it.
type ConsulConfig struct {
	Address string `yaml:"address"`
	Prefix  string `yaml:"prefix"`
	Token   string `yaml:"token"`
}

// EmbedConfig places the embedded etcd started when Etcd.Endpoints is empty.
type EmbedConfig struct {
	ClientURL string `yaml:"client_url"`
	PeerURL   string `yaml:"peer_url"`
}

// Config is the whole agent configuration. It is built from defaults, then a
// YAML file, then BALDUR_SYNC_* environment variables, then flags: each
// later source overrides the fields it sets.
type Config struct {
	Cluster  string       `yaml:"cluster"`
	Etcd     EtcdConfig   `yaml:"etcd"`
	Peers    []PeerConfig `yaml:"peers"`
	Prefix   string       `yaml:"prefix"`
	DataDir  string       `yaml:"data_dir"`
	HTTPAddr string       `yaml:"http_addr"`
	LogLevel string       `yaml:"log_level"`
	Embed    EmbedConfig  `yaml:"embed"`
	Consul   ConsulConfig `yaml:"consul"`
}

// DefaultConfig returns the configuration before any source is applied.
func DefaultConfig() Config {
	return Config{
		Prefix:   DefaultPrefix,
		DataDir:  DefaultDataDir,
		HTTPAddr: DefaultHTTPAddr,
		LogLevel: DefaultLogLevel,
		Embed:    EmbedConfig{ClientURL: DefaultEmbedClient, PeerURL: DefaultEmbedPeer},
		Consul:   ConsulConfig{Prefix: DefaultConsulPrefix},
	}
}

// Embedded reports whether the agent starts its own etcd.
func (c Config) Embedded() bool { return len(c.Etcd.Endpoints) == 0 }

// ConsulEnabled reports whether the Consul import runs.
func (c Config) ConsulEnabled() bool { return c.Consul.Address != "" }

func configErr(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", errConfig, field, fmt.Sprintf(format, args...))
}

// ParseConfigYAML decodes a YAML config file over base. Unknown keys are
// errors, so a typo does not silently fall back to a default.
func ParseConfigYAML(data []byte, base Config) (Config, error) {
	if len(data) > maxConfigFileBytes {
		return base, configErr("config file", "%d bytes, the limit is %d", len(data), maxConfigFileBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	cfg := base
	// Decode into a copy so that list fields present in the file replace,
	// rather than extend, the base lists.
	cfg.Peers = nil
	cfg.Etcd.Endpoints = nil
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) { // empty file
			return base, nil
		}
		return base, configErr("config file", "%v", err)
	}
	if cfg.Peers == nil {
		cfg.Peers = base.Peers
	}
	if cfg.Etcd.Endpoints == nil {
		cfg.Etcd.Endpoints = base.Etcd.Endpoints
	}
	return cfg, nil
}

// ParsePeers parses "name=ep1,ep2;name2=ep3" (the --peer flag takes one
// "name=ep1,ep2" each time). Spaces around names and endpoints are trimmed.
func ParsePeers(spec string) ([]PeerConfig, error) {
	var peers []PeerConfig
	for _, part := range strings.Split(spec, peerListSeparator) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := parsePeer(part)
		if err != nil {
			return nil, err
		}
		peers = append(peers, p)
	}
	return peers, nil
}

func parsePeer(s string) (PeerConfig, error) {
	name, eps, ok := strings.Cut(s, "=")
	if !ok {
		return PeerConfig{}, configErr("peers", "%q is not name=endpoint[,endpoint...]", s)
	}
	return PeerConfig{Name: strings.TrimSpace(name), EtcdConfig: EtcdConfig{Endpoints: splitList(eps)}}, nil
}

func splitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, endpointListSeparate) {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// peerAuth is the TLS and credentials given by flag or env for every peer
// listed by flag or env (the YAML file can set them per peer).
type peerAuth struct {
	TLS      TLSConfig
	Username string
	Password string
}

func (a peerAuth) applyTo(peers []PeerConfig) {
	for i := range peers {
		p := &peers[i]
		if !p.TLS.enabled() {
			p.TLS = a.TLS
		}
		if p.Username == "" {
			p.Username, p.Password = a.Username, a.Password
		}
	}
}

// settable is one configuration field as flag and environment variable.
type settable struct {
	name  string // flag name; the env var is BALDUR_SYNC_ + upper(name with - as _)
	usage string
	set   func(c *Config, a *peerAuth, v string) error
}

func strField(dst func(*Config) *string) func(*Config, *peerAuth, string) error {
	return func(c *Config, _ *peerAuth, v string) error { *dst(c) = v; return nil }
}

func authField(dst func(*peerAuth) *string) func(*Config, *peerAuth, string) error {
	return func(_ *Config, a *peerAuth, v string) error { *dst(a) = v; return nil }
}

// settables lists every flag/env field. Peers given by flag or env replace
// the file's peers as a whole.
var settables = []settable{
	{"cluster", "name of the local cluster (required)", strField(func(c *Config) *string { return &c.Cluster })},
	{"etcd-endpoints", "local etcd endpoints, comma separated; empty starts an embedded etcd in --data-dir",
		func(c *Config, _ *peerAuth, v string) error { c.Etcd.Endpoints = splitList(v); return nil }},
	{"etcd-ca", "CA file for the local etcd", strField(func(c *Config) *string { return &c.Etcd.TLS.CA })},
	{"etcd-cert", "client certificate file for the local etcd", strField(func(c *Config) *string { return &c.Etcd.TLS.Cert })},
	{"etcd-key", "client key file for the local etcd", strField(func(c *Config) *string { return &c.Etcd.TLS.Key })},
	{"etcd-user", "user name for the local etcd", strField(func(c *Config) *string { return &c.Etcd.Username })},
	{"etcd-password", "password for the local etcd", strField(func(c *Config) *string { return &c.Etcd.Password })},
	{"peers", "peer clusters: name=ep1,ep2;name2=ep3 (replaces the file's peers)",
		func(c *Config, _ *peerAuth, v string) error {
			p, err := ParsePeers(v)
			if err != nil {
				return err
			}
			c.Peers = p
			return nil
		}},
	{"peer-ca", "CA file for peers given by flag or env", authField(func(a *peerAuth) *string { return &a.TLS.CA })},
	{"peer-cert", "client certificate file for peers given by flag or env", authField(func(a *peerAuth) *string { return &a.TLS.Cert })},
	{"peer-key", "client key file for peers given by flag or env", authField(func(a *peerAuth) *string { return &a.TLS.Key })},
	{"peer-user", "user name for peers given by flag or env", authField(func(a *peerAuth) *string { return &a.Username })},
	{"peer-password", "password for peers given by flag or env", authField(func(a *peerAuth) *string { return &a.Password })},
	{"prefix", "key prefix of the baldur stores (default " + DefaultPrefix + ")", strField(func(c *Config) *string { return &c.Prefix })},
	{"data-dir", "data directory of the embedded etcd (default " + DefaultDataDir + ")", strField(func(c *Config) *string { return &c.DataDir })},
	{"http-addr", "listen address of /metrics, /healthz, /readyz, /status (default " + DefaultHTTPAddr + ")", strField(func(c *Config) *string { return &c.HTTPAddr })},
	{"log-level", "debug, info, warn or error (default " + DefaultLogLevel + ")", strField(func(c *Config) *string { return &c.LogLevel })},
	{"embed-client-url", "client URL of the embedded etcd; \"\" picks a free port (default " + DefaultEmbedClient + ")", strField(func(c *Config) *string { return &c.Embed.ClientURL })},
	{"embed-peer-url", "peer URL of the embedded etcd; \"\" picks a free port (default " + DefaultEmbedPeer + ")", strField(func(c *Config) *string { return &c.Embed.PeerURL })},
	{"consul-addr", "Consul HTTP address; enables the import of governance policies", strField(func(c *Config) *string { return &c.Consul.Address })},
	{"consul-prefix", "Consul KV prefix of governance policies (default " + DefaultConsulPrefix + ")", strField(func(c *Config) *string { return &c.Consul.Prefix })},
	{"consul-token", "Consul ACL token", strField(func(c *Config) *string { return &c.Consul.Token })},
}

// EnvName is the environment variable of a flag.
func EnvName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// ApplyEnv applies BALDUR_SYNC_* variables from lookup over cfg. A variable
// that is set, even to "", overrides.
func ApplyEnv(cfg Config, lookup func(string) (string, bool)) (Config, error) {
	var auth peerAuth
	var peersSet bool
	for _, s := range settables {
		v, ok := lookup(EnvName(s.name))
		if !ok {
			continue
		}
		if err := s.set(&cfg, &auth, v); err != nil {
			return cfg, fmt.Errorf("%s: %w", EnvName(s.name), err)
		}
		peersSet = peersSet || s.name == "peers"
	}
	if peersSet {
		auth.applyTo(cfg.Peers)
	}
	return cfg, nil
}

// flagValues holds the raw values of the flags the user set.
type flagValues struct {
	fs     *flag.FlagSet
	vals   map[string]*string
	peers  []string
	config *string
}

func newFlagValues(name string) *flagValues {
	fv := &flagValues{fs: flag.NewFlagSet(name, flag.ContinueOnError), vals: map[string]*string{}}
	fv.config = fv.fs.String("config", "", "YAML config file (env "+EnvName("config")+")")
	for _, s := range settables {
		if s.name == "peers" {
			continue
		}
		fv.vals[s.name] = fv.fs.String(s.name, "", s.usage+" (env "+EnvName(s.name)+")")
	}
	fv.fs.Func("peer", "a peer cluster, name=ep1,ep2; repeatable (env "+EnvName("peers")+", ';' between peers)", func(v string) error {
		fv.peers = append(fv.peers, v)
		return nil
	})
	return fv
}

func (fv *flagValues) apply(cfg Config) (Config, error) {
	set := map[string]bool{}
	fv.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var auth peerAuth
	for _, s := range settables {
		if s.name == "peers" || !set[s.name] {
			continue
		}
		if err := s.set(&cfg, &auth, *fv.vals[s.name]); err != nil {
			return cfg, fmt.Errorf("--%s: %w", s.name, err)
		}
	}
	if set["peer"] {
		cfg.Peers = nil
		for _, p := range fv.peers {
			pc, err := parsePeer(p)
			if err != nil {
				return cfg, fmt.Errorf("--peer: %w", err)
			}
			cfg.Peers = append(cfg.Peers, pc)
		}
		auth.applyTo(cfg.Peers)
	}
	return cfg, nil
}

// LoadConfig builds the configuration from defaults, the YAML file named by
// --config or BALDUR_SYNC_CONFIG, the environment and the flags in args, and
// validates it.
func LoadConfig(args []string, lookup func(string) (string, bool), usage io.Writer) (Config, error) {
	fv := newFlagValues("baldur-sync")
	fv.fs.SetOutput(usage)
	if err := fv.fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fv.fs.NArg() > 0 {
		return Config{}, configErr("arguments", "unexpected %q", fv.fs.Args())
	}
	cfg := DefaultConfig()
	path := *fv.config
	if path == "" {
		path, _ = lookup(EnvName("config"))
	}
	if path != "" {
		data, err := readLimited(path)
		if err != nil {
			return Config{}, configErr("config file", "%v", err)
		}
		if cfg, err = ParseConfigYAML(data, cfg); err != nil {
			return Config{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	cfg, err := ApplyEnv(cfg, lookup)
	if err != nil {
		return Config{}, err
	}
	if cfg, err = fv.apply(cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxConfigFileBytes+1))
}

// Validate checks every field and names the first wrong one.
func (c Config) Validate() error {
	if err := baldur.ValidateID("cluster name", c.Cluster); err != nil {
		return configErr("cluster", "%v", err)
	}
	if err := validateEtcd("etcd", c.Etcd); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, p := range c.Peers {
		field := fmt.Sprintf("peers[%d]", i)
		if err := baldur.ValidateID("peer name", p.Name); err != nil {
			return configErr(field+".name", "%v", err)
		}
		if p.Name == c.Cluster {
			return configErr(field+".name", "%q is the local cluster", p.Name)
		}
		if seen[p.Name] {
			return configErr(field+".name", "%q is listed twice", p.Name)
		}
		seen[p.Name] = true
		if len(p.Endpoints) == 0 {
			return configErr(field+".endpoints", "peer %q has no endpoint", p.Name)
		}
		if err := validateEtcd(field, p.EtcdConfig); err != nil {
			return err
		}
	}
	if c.Prefix == "" || !strings.HasPrefix(c.Prefix, "/") {
		return configErr("prefix", "%q must start with '/'", c.Prefix)
	}
	if strings.ContainsAny(c.Prefix, "\x00\n\r") {
		return configErr("prefix", "%q contains a control character", c.Prefix)
	}
	if c.Embedded() && c.DataDir == "" {
		return configErr("data_dir", "empty, and no etcd endpoints are given")
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return configErr("http_addr", "%q: %v", c.HTTPAddr, err)
	}
	if _, err := zapcore.ParseLevel(c.LogLevel); err != nil {
		return configErr("log_level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if c.Embedded() {
		// "" picks a free loopback port (logged at start).
		if c.Embed.ClientURL != "" {
			if err := validateURL("embed.client_url", c.Embed.ClientURL); err != nil {
				return err
			}
		}
		if c.Embed.PeerURL != "" {
			if err := validateURL("embed.peer_url", c.Embed.PeerURL); err != nil {
				return err
			}
		}
	}
	if c.ConsulEnabled() {
		if c.Consul.Prefix == "" {
			return configErr("consul.prefix", "empty while consul.address is set")
		}
		if strings.HasPrefix(c.Consul.Prefix, "/") {
			return configErr("consul.prefix", "%q: Consul KV keys do not start with '/'", c.Consul.Prefix)
		}
	} else if c.Consul.Token != "" {
		return configErr("consul.address", "empty while consul.token is set")
	}
	return nil
}

func validateEtcd(field string, e EtcdConfig) error {
	for i, ep := range e.Endpoints {
		if ep == "" || strings.ContainsAny(ep, " \t\r\n") {
			return configErr(fmt.Sprintf("%s.endpoints[%d]", field, i), "%q is not an endpoint", ep)
		}
		if strings.Contains(ep, "://") {
			if err := validateURL(fmt.Sprintf("%s.endpoints[%d]", field, i), ep); err != nil {
				return err
			}
		} else if _, _, err := net.SplitHostPort(ep); err != nil {
			return configErr(fmt.Sprintf("%s.endpoints[%d]", field, i), "%q: want host:port or a URL", ep)
		}
	}
	if (e.TLS.Cert == "") != (e.TLS.Key == "") {
		return configErr(field+".tls", "cert and key go together")
	}
	if e.Password != "" && e.Username == "" {
		return configErr(field+".username", "empty while a password is set")
	}
	return nil
}

func validateURL(field, s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return configErr(field, "%q: %v", s, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "unix" && u.Scheme != "unixs":
		return configErr(field, "%q: scheme must be http or https", s)
	case u.Host == "":
		return configErr(field, "%q has no host", s)
	}
	return nil
}
