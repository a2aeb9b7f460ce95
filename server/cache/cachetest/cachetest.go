// Package cachetest starts Redis behind TLS for tests, as the managed
// services serve it (ElastiCache, Memorystore, Azure Cache for Redis): with a
// CA and a server certificate made for the test, and a password. The server
// is the real redis-server (its --tls-port; Debian's package is built with
// TLS) where it is installed, and miniredis's TLS listener everywhere, so
// the tests run on every machine.
package cachetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/mobile-mm-llm/mobile-mm-llm/server/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// The servers StartTLS can run.
const (
	// RedisServer is the redis-server binary with --tls-port.
	RedisServer = "redis-server"
	// Miniredis is miniredis's TLS listener (always available).
	Miniredis = "miniredis"
)

// Kinds lists the servers this machine can run: RedisServer when it is
// on PATH, and Miniredis.
func Kinds() []string {
	if _, err := exec.LookPath(RedisServer); err == nil {
		return []string{RedisServer, Miniredis}
	}
	return []string{Miniredis}
}

// TLSServer is a Redis that speaks only TLS on 127.0.0.1.
type TLSServer struct {
	// Addr is "127.0.0.1:port".
	Addr string
	// CAFile is the PEM file of the CA that signed the server's certificate
	// (for 127.0.0.1 and localhost).
	CAFile string
	// Roots holds that CA.
	Roots *x509.CertPool
	// Password is what AUTH needs ("" for none).
	Password string
}

// StartTLS starts a TLS-only Redis of kind (RedisServer or Miniredis)
// requiring password (none if empty), waits until it answers PING over
// TLS, and stops it when the test ends.
func StartTLS(t testing.TB, kind, password string) *TLSServer {
	t.Helper()
	dir := t.TempDir()
	certs, err := newCertificates(dir)
	if err != nil {
		t.Fatalf("cachetest: %v", err)
	}
	s := &TLSServer{CAFile: certs.caFile, Roots: certs.roots, Password: password}
	switch kind {
	case RedisServer:
		s.Addr = startRedisServer(t, dir, certs, password)
	case Miniredis:
		m := miniredis.NewMiniRedis()
		if password != "" {
			m.RequireAuth(password)
		}
		if err := m.StartTLS(&tls.Config{Certificates: []tls.Certificate{certs.server}, MinVersion: tls.VersionTLS12}); err != nil {
			t.Fatalf("cachetest: starting miniredis with TLS: %v", err)
		}
		t.Cleanup(m.Close)
		s.Addr = m.Addr()
	default:
		t.Fatalf("cachetest: unknown server kind %q (want %q or %q)", kind, RedisServer, Miniredis)
	}
	if err := s.waitReady(10 * time.Second); err != nil {
		t.Fatalf("cachetest: %s: %v", kind, err)
	}
	return s
}

// startRedisServer runs redis-server with only a TLS port, no
// persistence and no client certificates, and returns its address.
func startRedisServer(t testing.TB, dir string, certs *certificates, password string) string {
	t.Helper()
	port, err := redistest.FreePort()
	if err != nil {
		t.Fatalf("cachetest: %v", err)
	}
	args := []string{
		"--bind", "127.0.0.1", "--port", "0", "--tls-port", strconv.Itoa(port),
		"--tls-cert-file", certs.certFile, "--tls-key-file", certs.keyFile, "--tls-ca-cert-file", certs.caFile,
		"--tls-auth-clients", "no", "--dir", dir, "--save", "", "--appendonly", "no", "--loglevel", "warning",
	}
	if password != "" {
		args = append(args, "--requirepass", password)
	}
	log, err := os.Create(filepath.Join(dir, "redis.log"))
	if err != nil {
		t.Fatalf("cachetest: %v", err)
	}
	cmd := exec.Command(RedisServer, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("cachetest: starting %s: %v", RedisServer, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		_ = log.Close()
	})
	// An early exit (a build without TLS refuses --tls-port) shows in the log.
	select {
	case <-exited:
		out, _ := os.ReadFile(log.Name())
		t.Fatalf("cachetest: %s exited at once: %s", RedisServer, out)
	case <-time.After(50 * time.Millisecond):
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// waitReady polls PING over TLS until the server answers or the time is up.
func (s *TLSServer) waitReady(limit time.Duration) error {
	return redistest.WaitPing(&redis.Options{Addr: s.Addr, Password: s.Password,
		TLSConfig: &tls.Config{RootCAs: s.Roots, MinVersion: tls.VersionTLS12}}, nil, limit)
}

// certificates are a test CA and a server certificate it signed, in
// memory and as PEM files.
type certificates struct {
	caFile, certFile, keyFile string
	roots                     *x509.CertPool
	server                    tls.Certificate
}

// newCertificates makes a CA and a server certificate for 127.0.0.1 and
// localhost, valid for a day, and writes them to dir.
func newCertificates(dir string) (*certificates, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cachetest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("server key: %w", err)
	}
	c := &certificates{
		caFile: filepath.Join(dir, "ca.crt"), certFile: filepath.Join(dir, "server.crt"), keyFile: filepath.Join(dir, "server.key"),
		roots: x509.NewCertPool(),
	}
	c.roots.AddCert(ca)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	for _, f := range []struct {
		path string
		data []byte
	}{{c.caFile, caPEM}, {c.certFile, certPEM}, {c.keyFile, keyPEM}} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return nil, fmt.Errorf("writing %s: %w", f.path, err)
		}
	}
	if c.server, err = tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, fmt.Errorf("server key pair: %w", err)
	}
	return c, nil
}
