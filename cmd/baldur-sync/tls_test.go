package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/baldur-go/baldur/internal/embedetcd"
)

// syncTestPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate as PEM files into dir.
type syncTestPKI struct{ ca, serverCert, serverKey, clientCert, clientKey string }

func newSyncTestPKI(t *testing.T, dir string) syncTestPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "baldur test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
		return p
	}
	leaf := func(name string, serial int64, usage []x509.ExtKeyUsage) (string, string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: usage,
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		require.NoError(t, err)
		kder, err := x509.MarshalECPrivateKey(key)
		require.NoError(t, err)
		return write(name+".pem", "CERTIFICATE", der), write(name+"-key.pem", "EC PRIVATE KEY", kder)
	}
	p := syncTestPKI{ca: write("ca.pem", "CERTIFICATE", caDER)}
	p.serverCert, p.serverKey = leaf("server", 2, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth})
	p.clientCert, p.clientKey = leaf("client", 3, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	return p
}

// The agent talks TLS with client certificates to its local etcd; without
// the certificate the same etcd refuses it and /readyz says so.
func TestSyncAgentTLS(t *testing.T) {
	dir := t.TempDir()
	pki := newSyncTestPKI(t, dir)
	port, err := embedetcd.FreePort()
	require.NoError(t, err)
	srv, err := embedetcd.Start(context.Background(), embedetcd.Config{
		Name: "east", Dir: filepath.Join(dir, "etcd"), UnsafeNoFsync: true,
		ClientURL: fmt.Sprintf("https://127.0.0.1:%d", port),
		Configure: func(ec *embed.Config) {
			ec.ClientTLSInfo = transport.TLSInfo{CertFile: pki.serverCert, KeyFile: pki.serverKey, TrustedCAFile: pki.ca, ClientCertAuth: true}
		},
	})
	require.NoError(t, err)
	defer srv.Close()

	cfg := DefaultConfig()
	cfg.Cluster = "east"
	cfg.Etcd = EtcdConfig{Endpoints: srv.Endpoints(), TLS: TLSConfig{CA: pki.ca, Cert: pki.clientCert, Key: pki.clientKey}}
	cfg.HTTPAddr = "127.0.0.1:0"
	require.NoError(t, cfg.Validate())
	a, err := StartAgent(context.Background(), cfg, testLogger(t))
	require.NoError(t, err)
	defer a.Close()
	require.Eventually(t, func() bool {
		code, _ := httpGet(t, "http://"+a.HTTPAddr()+"/readyz")
		return code == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)

	cfg.Etcd.TLS = TLSConfig{CA: pki.ca} // server verified, but no client certificate
	b, err := StartAgent(context.Background(), cfg, testLogger(t))
	require.NoError(t, err)
	defer b.Close()
	code, body := httpGet(t, "http://"+b.HTTPAddr()+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code, body)

	cfg.Etcd.TLS = TLSConfig{CA: filepath.Join(dir, "missing.pem")}
	_, err = StartAgent(context.Background(), cfg, testLogger(t))
	require.ErrorContains(t, err, "etcd.tls")
}
