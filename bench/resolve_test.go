package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

// env is the registry, the counting proxy in front of it and the two
// binaries, set up once for every benchmark.
type env struct {
	dir              string // temporary: binaries and registry storage
	proxy            string // host:port of the counting proxy
	tailor, ggcr     string // binaries
	requests         atomic.Int64
	manifests, blobs atomic.Int64
	pushed           *resolvetest.Pushed
}

var (
	setupOnce sync.Once
	shared    *env
	setupErr  error
)

// TestMain removes the benchmarks' temporary directory (two binaries and
// a registry's storage) when they are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

func setup(b *testing.B) *env {
	b.Helper()
	setupOnce.Do(func() { shared, setupErr = newEnv() })
	if setupErr != nil {
		b.Fatal(setupErr)
	}
	return shared
}

func newEnv() (*env, error) {
	dir, err := os.MkdirTemp("", "tailor-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, tailor: filepath.Join(dir, "tailor"), ggcr: filepath.Join(dir, "ggcrdigest")}
	for out, pkg := range map[string]string{e.tailor: "../cmd/tailor", e.ggcr: "./ggcrdigest"} {
		if msg, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
		}
	}
	host, _, err := registrytest.Start(context.Background(), filepath.Join(dir, "registry"))
	if err != nil {
		return nil, err
	}
	if e.pushed, err = resolvetest.Push(host+"/app:1", resolvetest.Variants); err != nil {
		return nil, err
	}
	target, _ := url.Parse("http://" + host)
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		switch {
		case strings.Contains(r.URL.Path, "/manifests/"):
			e.manifests.Add(1)
		case strings.Contains(r.URL.Path, "/blobs/"):
			e.blobs.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	e.proxy = strings.TrimPrefix(srv.URL, "http://")
	return e, nil
}

func (e *env) reset() {
	e.requests.Store(0)
	e.manifests.Store(0)
	e.blobs.Store(0)
}

// runProcess benchmarks one command line and reports its requests per run.
func runProcess(b *testing.B, e *env, want string, argv ...string) {
	e.reset()
	b.ResetTimer()
	for b.Loop() {
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			b.Fatalf("%v: %v: %s (want %s)", argv, err, out, want)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(e.requests.Load())/n, "requests/op")
	b.ReportMetric(float64(e.manifests.Load())/n, "manifestGETs/op")
	b.ReportMetric(float64(e.blobs.Load())/n, "blobGETs/op")
}

// BenchmarkResolveProcess runs `tailor resolve` and the go-containerregistry
// baseline (crane digest --platform) as whole processes against the local
// distribution registry, through a proxy that counts their requests.
func BenchmarkResolveProcess(b *testing.B) {
	e := setup(b)
	ref := e.proxy + "/app:1"
	b.Run("tailor", func(b *testing.B) {
		want := e.pushed.Digests["zen4"].String()
		runProcess(b, e, want, e.tailor, "resolve", ref, "--profile", "cpu=zen4")
	})
	b.Run("ggcr", func(b *testing.B) {
		want := e.pushed.Digests["generic"].String()
		runProcess(b, e, want, e.ggcr, "--platform", "linux/amd64", ref)
	})
	b.Run("tailor-host", func(b *testing.B) {
		runProcess(b, e, e.proxy+"/app@sha256:", e.tailor, "resolve", ref)
	})
}
