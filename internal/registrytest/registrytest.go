// Package registrytest starts real registries for tests: the distribution
// registry (distribution/distribution v3, the same code as the registry:2
// image) in-process on a loopback port, with filesystem storage in a
// temporary directory, and builds small images and indexes to push to it.
package registrytest

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem" // storage driver
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/sirupsen/logrus"
)

// Option configures a test registry.
type Option func(*configuration.Configuration)

// WithProxy makes the registry a pull-through cache of remoteURL
// (distribution's proxy.remoteurl), as used to compare with tailor serve.
func WithProxy(remoteURL string) Option {
	return func(c *configuration.Configuration) { c.Proxy.RemoteURL = remoteURL }
}

// New starts a distribution registry on 127.0.0.1 with storage in
// dir (t.TempDir() when dir is empty) and returns its host:port. It is
// stopped when the test ends.
func New(t testing.TB, dir string, opts ...Option) string {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	host, stop, err := Start(context.Background(), dir, opts...)
	if err != nil {
		t.Fatalf("start distribution registry: %v", err)
	}
	t.Cleanup(stop)
	return host
}

// Start is New for callers without a testing.TB (benchmarks, the demo):
// it returns the host:port and a function that stops the registry.
func Start(ctx context.Context, dir string, opts ...Option) (string, func(), error) {
	logrus.SetOutput(io.Discard)
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			"filesystem": configuration.Parameters{"rootdirectory": dir},
			"delete":     configuration.Parameters{"enabled": true},
		},
	}
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	cfg.HTTP.Headers = http.Header{"X-Content-Type-Options": []string{"nosniff"}}
	for _, o := range opts {
		o(cfg)
	}
	app := handlers.NewApp(ctx, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	// Tests need no graceful stop: Close drops keep-alive connections that
	// Shutdown would wait for.
	stop := func() { _ = srv.Close() }
	return ln.Addr().String(), stop, nil
}

// Image builds a small image for os/arch (variant optional) whose single
// layer holds files (path -> content).
func Image(t testing.TB, platform v1.Platform, files map[string]string) v1.Image {
	t.Helper()
	img, err := NewImage(platform, files)
	if err != nil {
		t.Fatalf("build test image: %v", err)
	}
	return img
}

// NewImage is Image without a testing.TB.
func NewImage(platform v1.Platform, files map[string]string) (v1.Image, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = platform.OS, platform.Architecture, platform.Variant
	return mutate.ConfigFile(img, cf)
}
