package serve

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// TestLoad runs 200 concurrent pulls of mixed profiles through a proxy:
// none may fail or get the wrong build, and the heap must stay bounded.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}), WithLogin(true))
	profiles := map[string]string{
		"cpu=haswell": "haswell", "cpu=skylake_avx512": "skylake_avx512",
		"cpu=x86_64": "generic-amd64", "cpu=zen4": "generic-amd64", "cpu=icelake": "skylake_avx512",
	}
	var specs []string
	for s := range profiles {
		specs = append(specs, s)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	const pulls = 200
	var wg sync.WaitGroup
	errs := make([]error, pulls)
	for i := range pulls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spec := specs[i%len(specs)]
			auth := remote.WithAuth(&authn.Basic{Username: spec, Password: "x"})
			ft := &fatalCatcher{TB: t}
			got := func() (s string) {
				defer func() {
					if recover() != nil {
						s = "<failed: " + ft.msg + ">"
					}
				}()
				return readTarget(ft, srv+"/app:v1", "amd64", auth)
			}()
			if got != profiles[spec] {
				errs[i] = fmt.Errorf("pull %d (%s) got %q, want %q", i, spec, got, profiles[spec])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap before %d KiB, after %d KiB, peak sys %d MiB", before.HeapAlloc>>10, after.HeapAlloc>>10, after.Sys>>20)
	if growth > 64<<20 {
		t.Errorf("heap grew by %d MiB over %d pulls, want bounded (< 64 MiB)", growth>>20, pulls)
	}
}

// fatalCatcher turns Fatal in a goroutine into a panic the caller recovers.
type fatalCatcher struct {
	testing.TB
	msg string
}

func (f *fatalCatcher) Fatal(args ...any) { f.msg = fmt.Sprint(args...); panic(f.msg) }
func (f *fatalCatcher) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f.msg)
}
func (f *fatalCatcher) Helper() {}
