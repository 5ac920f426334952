package serve

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// as PEM files and returns their paths and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tailor test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, pool
}

func TestTLS(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	certFile, keyFile, pool := selfSigned(t)
	s, err := New(WithStorage(t.TempDir()), WithTLS(certFile, keyFile), WithProfile(mustProfile(t, "cpu=haswell")),
		WithUpstreams(Upstream{Name: "up", URL: "http://" + up}))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	srv := ln.Addr().String()

	trusting := remote.WithTransport(&http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}})
	im, d := fetchIndex(t, srv+"/app:v1", trusting) // https: the reference is not insecure
	if !hasSelected(im.Manifests) {
		t.Errorf("index over TLS not tailored: %+v", im.Manifests)
	}
	if got := readTarget(t, srv+"/app:v1", "amd64", trusting); got != "haswell" {
		t.Errorf("pull over TLS got %q, want haswell", got)
	}
	if _, d2 := fetchIndex(t, srv+"/app@"+d.String(), trusting); d2 != d {
		t.Errorf("tailored index by digest over TLS %s, want %s", d2, d)
	}

	// A client that does not trust the certificate is refused, and so is
	// plain HTTP.
	ref, _ := name.ParseReference(srv + "/app:v1")
	if _, err := remote.Index(ref, remote.WithTransport(&http.Transport{})); err == nil {
		t.Error("a client not trusting the self-signed certificate pulled")
	}
	if resp, err := http.Get("http://" + srv + "/v2/"); err == nil {
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP answered %d on the TLS port", resp.StatusCode)
		}
		resp.Body.Close()
	}
}
