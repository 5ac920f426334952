// Package serve_test benchmarks tailor serve against the upstream it
// fronts and against distribution's own pull-through proxy.
//
//	go test -run '^$' -bench . -benchtime 3x ./bench/serve/
//
// TAILOR_BENCH_BLOB_MB sets the blob size (default 1024).
package serve_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/serve"
)

func blobSize() int64 {
	mb, _ := strconv.Atoi(os.Getenv("TAILOR_BENCH_BLOB_MB"))
	if mb <= 0 {
		mb = 1024
	}
	return int64(mb) << 20
}

func stream(size int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{'t', 'a', 'i', 'l', 'o', 'r'}), size)
}

// pushBlob uploads a pseudo-random blob of size bytes monolithically.
func pushBlob(b *testing.B, host, repo string, size int64) string {
	h := sha256.New()
	if _, err := io.Copy(h, stream(size)); err != nil {
		b.Fatal(err)
	}
	dg := fmt.Sprintf("sha256:%x", h.Sum(nil))
	if err := registrytest.PushBlob(context.Background(), host, repo, stream(size), size, dg); err != nil {
		b.Fatal(err)
	}
	return dg
}

// peak samples the heap while f runs and returns the largest HeapInuse.
func peak(f func()) uint64 {
	var max atomic.Uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > max.Load() {
				max.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(done)
	return max.Load()
}

func getAll(b *testing.B, url string, header http.Header) int64 {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return n
}

func newServe(b *testing.B, up string) string {
	p, _ := profile.ParseSpec("cpu=haswell")
	s, err := serve.New(serve.WithStorage(b.TempDir()), serve.WithProfile(p),
		serve.WithKeychain(authn.NewMultiKeychain()), serve.WithUpstreams(serve.Upstream{Name: "up", URL: "http://" + up}))
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s)
	b.Cleanup(ts.Close)
	return strings.TrimPrefix(ts.URL, "http://")
}

func BenchmarkBlob(b *testing.B) {
	size := blobSize()
	up := registrytest.New(b, "")
	dg := pushBlob(b, up, "bench/big", size)
	tailor := newServe(b, up)
	proxy := registrytest.New(b, "", registrytest.WithProxy("http://"+up))
	for _, c := range []struct{ name, url string }{
		{"direct", "http://" + up + "/v2/bench/big/blobs/" + dg},
		{"tailor-serve", "http://" + tailor + "/v2/bench/big/blobs/" + dg},
		{"distribution-proxy", "http://" + proxy + "/v2/bench/big/blobs/" + dg},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(size)
			runtime.GC()
			p := peak(func() {
				for b.Loop() {
					if n := getAll(b, c.url, nil); n != size {
						b.Fatalf("got %d bytes, want %d", n, size)
					}
				}
			})
			b.ReportMetric(float64(p)/(1<<20), "peak-heap-MiB")
		})
	}
}

func BenchmarkManifestByTag(b *testing.B) {
	up := registrytest.New(b, "")
	var idx v1.ImageIndex = mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, t := range []string{"", "haswell", "skylake_avx512"} {
		img, _ := registrytest.NewImage(v1.Platform{OS: "linux", Architecture: "amd64"}, map[string]string{"t": t})
		d := v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}
		if t != "" {
			d.Annotations = map[string]string{"dev.tailor.cpu.target": t}
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: d})
	}
	ref, _ := name.ParseReference(up + "/bench/app:v1")
	if err := remote.WriteIndex(ref, idx); err != nil {
		b.Fatal(err)
	}
	accept := http.Header{"Accept": {string(types.OCIImageIndex), string(types.OCIManifestSchema1)}}
	tailor := newServe(b, up)
	proxy := registrytest.New(b, "", registrytest.WithProxy("http://"+up))
	path := "/v2/bench/app/manifests/v1"
	for _, c := range []struct{ name, url string }{
		{"direct", "http://" + up + path},
		{"tailor-serve-warm", "http://" + tailor + path},
		{"distribution-proxy-warm", "http://" + proxy + path},
	} {
		b.Run(c.name, func(b *testing.B) {
			getAll(b, c.url, accept) // warm up
			for b.Loop() {
				getAll(b, c.url, accept)
			}
		})
	}
	b.Run("tailor-serve-cold", func(b *testing.B) {
		// A fresh server each time: no upstream token, no stored index.
		for b.Loop() {
			b.StopTimer()
			host := newServe(b, up)
			b.StartTimer()
			getAll(b, "http://"+host+path, accept)
		}
	})
	b.Run("distribution-proxy-cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			host, stop, err := registrytest.Start(context.Background(), b.TempDir(), registrytest.WithProxy("http://"+up))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			getAll(b, "http://"+host+path, accept)
			b.StopTimer()
			stop()
			b.StartTimer()
		}
	})
}

// BenchmarkBlobCold GETs a blob through a fresh tailor serve each time:
// the cache fill (fetch, verify, store, stream) against distribution's
// proxy filling its own.
func BenchmarkBlobCold(b *testing.B) {
	size := blobSize()
	up := registrytest.New(b, "")
	dg := pushBlob(b, up, "bench/big", size)
	b.Run("tailor-serve", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			b.StopTimer()
			host := newServe(b, up)
			b.StartTimer()
			if n := getAll(b, "http://"+host+"/v2/bench/big/blobs/"+dg, nil); n != size {
				b.Fatalf("got %d bytes", n)
			}
		}
	})
	b.Run("distribution-proxy", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			b.StopTimer()
			host, stop, err := registrytest.Start(context.Background(), b.TempDir(), registrytest.WithProxy("http://"+up))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if n := getAll(b, "http://"+host+"/v2/bench/big/blobs/"+dg, nil); n != size {
				b.Fatalf("got %d bytes", n)
			}
			b.StopTimer()
			stop()
			b.StartTimer()
		}
	})
}
