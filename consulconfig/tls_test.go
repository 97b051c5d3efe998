package consulconfig

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTLSWithClientCertificate runs the agent with HTTPS that requires a
// client certificate (made by `consul tls`), and reads through it with the
// CA, the client certificate and key, and the server name.
func TestTLSWithClientCertificate(t *testing.T) {
	dir := t.TempDir()
	bin := consulBin(t)
	for _, args := range [][]string{
		{"tls", "ca", "create"},
		{"tls", "cert", "create", "-server", "-dc", "dc1"},
		{"tls", "cert", "create", "-client", "-dc", "dc1"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "consul %v: %s", args, out)
	}
	f := func(name string) string { return filepath.Join(dir, name) }
	a := startAgent(t, func(a *agent) []string {
		return []string{
			"-https-port", strconv.Itoa(a.ports[4]),
			"-hcl", fmt.Sprintf(`tls { defaults { ca_file = %q cert_file = %q key_file = %q } https { verify_incoming = true } }`,
				f("consul-agent-ca.pem"), f("dc1-server-consul-0.pem"), f("dc1-server-consul-0-key.pem")),
		}
	})
	a.Put("config/secure/ok", "yes")
	httpsAddr := "127.0.0.1:" + strconv.Itoa(a.ports[4])

	p := newProvider(t, httpsAddr, WithTLS(TLS{
		CAFile:     f("consul-agent-ca.pem"),
		CertFile:   f("dc1-client-consul-0.pem"),
		KeyFile:    f("dc1-client-consul-0-key.pem"),
		ServerName: "server.dc1.consul",
	}))
	require.True(t, p.GetBool("secure.ok", false))
	require.Contains(t, p.String(), httpsAddr)
	a.Put("config/secure/ok", "no")
	waitFor(t, 10*time.Second, "the edit over HTTPS", func() bool { return !p.GetBool("secure.ok", true) })

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Without the client certificate the agent refuses the connection.
	_, err := New(ctx, WithAddress(httpsAddr), WithTLS(TLS{CAFile: f("consul-agent-ca.pem"), ServerName: "server.dc1.consul"}))
	require.Error(t, err)
	// Without the CA the agent's certificate is not trusted.
	_, err = New(ctx, WithAddress(httpsAddr), WithTLS(TLS{
		CertFile: f("dc1-client-consul-0.pem"), KeyFile: f("dc1-client-consul-0-key.pem"), ServerName: "server.dc1.consul",
	}))
	require.Error(t, err)
	// The same settings through the CONSUL_* environment variables.
	t.Setenv("CONSUL_HTTP_ADDR", "https://"+httpsAddr)
	t.Setenv("CONSUL_CACERT", f("consul-agent-ca.pem"))
	t.Setenv("CONSUL_CLIENT_CERT", f("dc1-client-consul-0.pem"))
	t.Setenv("CONSUL_CLIENT_KEY", f("dc1-client-consul-0-key.pem"))
	t.Setenv("CONSUL_TLS_SERVER_NAME", "server.dc1.consul")
	p2, err := New(ctx)
	require.NoError(t, err)
	defer p2.Close()
	require.False(t, p2.GetBool("secure.ok", true))
}
