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
	"time"

	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

// env is the registry, the counting proxy in front of it and the two
// binaries, set up once for every benchmark.
type env struct {
	dir              string // temporary: binaries and registry storage
	proxy            string // host:port of the counting proxy
	tailor, ggcr     string // binaries
	crane            string // go-containerregistry's crane, at the version go.mod pins
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
	e := &env{dir: dir, tailor: filepath.Join(dir, "tailor"), ggcr: filepath.Join(dir, "ggcrdigest"), crane: filepath.Join(dir, "crane")}
	for out, pkg := range map[string]string{e.tailor: "../cmd/tailor", e.ggcr: "./ggcrdigest", e.crane: "github.com/google/go-containerregistry/cmd/crane"} {
		// As released: crane's releases and tailor's install line build
		// without cgo.
		build := exec.Command("go", "build", "-o", out, pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := build.CombinedOutput(); err != nil {
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

// runProcess benchmarks one command line and reports its requests, CPU
// time and peak RSS per run. measure runs it twice (once more under GNU
// time), so ns/op is two runs' wall time and the request counts are halved.
func runProcess(b *testing.B, e *env, want string, argv ...string) {
	e.reset()
	var cpu time.Duration
	var maxRSS int64
	b.ResetTimer()
	for b.Loop() {
		out, c, rss, err := measure(argv...)
		if err != nil || !strings.Contains(string(out), want) {
			b.Fatalf("%v: %v: %s (want %s)", argv, err, out, want)
		}
		cpu += c
		maxRSS = max(maxRSS, rss)
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(cpu.Microseconds())/n/1000, "cpu-ms/op")
	b.ReportMetric(float64(maxRSS)/1024/1024, "maxrss-MiB")
	b.ReportMetric(float64(e.requests.Load())/n/2, "requests/op")
	b.ReportMetric(float64(e.manifests.Load())/n/2, "manifestGETs/op")
	b.ReportMetric(float64(e.blobs.Load())/n/2, "blobGETs/op")
}

// measure runs argv twice: once directly, for its output and its CPU time
// (user + system, from its rusage: time on a shared machine is measured by
// CPU, not wall clock), once under GNU time for its peak RSS in bytes. The
// rusage Go gets from its own child is no use for RSS: a child started
// with vfork counts the parent's pages until it execs.
func measure(argv ...string) (out []byte, cpu time.Duration, rss int64, err error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	if out, err = cmd.CombinedOutput(); err != nil {
		return out, 0, 0, err
	}
	cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	gnuTime, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		return out, 0, 0, fmt.Errorf("GNU time is needed to measure peak RSS (apt-get install time): %w", err)
	}
	f, err := os.CreateTemp("", "usage-")
	if err != nil {
		return out, 0, 0, err
	}
	defer os.Remove(f.Name())
	f.Close()
	if msg, err := exec.Command(gnuTime, append([]string{"-o", f.Name(), "-f", "%M"}, argv...)...).CombinedOutput(); err != nil {
		return msg, 0, 0, err
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		return out, 0, 0, err
	}
	var kib int64
	if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%d", &kib); err != nil {
		return out, 0, 0, fmt.Errorf("reading GNU time's %q: %w", b, err)
	}
	return out, cpu, kib * 1024, nil
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
	b.Run("crane", func(b *testing.B) {
		want := e.pushed.Digests["generic"].String()
		runProcess(b, e, want, e.crane, "digest", "--platform", "linux/amd64", ref)
	})
	b.Run("ggcr", func(b *testing.B) {
		want := e.pushed.Digests["generic"].String()
		runProcess(b, e, want, e.ggcr, "--platform", "linux/amd64", ref)
	})
	b.Run("tailor-host", func(b *testing.B) {
		runProcess(b, e, e.proxy+"/app@sha256:", e.tailor, "resolve", ref)
	})
}
