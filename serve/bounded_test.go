package serve

import (
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// dirSize is the bytes of the regular files under dir.
func dirSize(t *testing.T, dir string) (int64, int) {
	t.Helper()
	var n int64
	files := 0
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
			files++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n, files
}

// TestClientChosenProfilesBounded: each distinct /v2/_p/<spec>/ wrote a
// new tailored index and kept it in memory (5,000 requests, 5,000
// files). 3,000 client-chosen profiles now leave at most one answer per
// entry on disk (under 1 MiB) and a bounded heap; an over-long spec is
// refused.
func TestClientChosenProfilesBounded(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	storage := t.TempDir()
	_, srv := newTestServer(t, WithStorage(storage), WithUpstreams(Upstream{Name: "up", URL: "http://" + up}))
	targets := []string{"haswell", "skylake_avx512", "icelake", "zen3", "x86_64", "neoverse_v2", "a64fx"}
	before, _ := dirSize(t, storage)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapAlloc

	const profiles = 3000
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	errs := make(chan string, profiles)
	label := strings.Repeat("x", 200)
	for i := range profiles {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			spec := "cpu=" + targets[i%len(targets)] + ",label.n" + strconv.Itoa(i) + "=" + label
			resp, err := http.Get("http://" + srv + "/v2/_p/" + spec + "/app/manifests/v1")
			if err != nil {
				errs <- err.Error()
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- spec + ": " + resp.Status
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	after, files := dirSize(t, filepath.Join(storage, "tailored"))
	total, _ := dirSize(t, storage)
	runtime.GC()
	runtime.ReadMemStats(&ms)
	growth := int64(ms.HeapAlloc) - int64(heapBefore)
	t.Logf("%d profiles: storage %d -> %d bytes (%d tailored files, %d bytes), heap %+d KiB", profiles, before, total, files, after, growth>>10)
	if files > len(testVariants) {
		t.Errorf("%d tailored files for an index of %d entries", files, len(testVariants))
	}
	if total-before > 1<<20 {
		t.Errorf("storage grew by %d bytes, want <= 1 MiB", total-before)
	}
	if growth > 16<<20 {
		t.Errorf("heap grew by %d MiB, want bounded (<= 16 MiB)", growth>>20)
	}
	resp := get(t, "http://"+srv+"/v2/_p/cpu=haswell,label.x="+strings.Repeat("y", maxProfileLen)+"/app/manifests/v1", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an over-long spec: %d, want 400", resp.StatusCode)
	}
}

// TestStoreBound: the tailored store collects the least recently used
// files past its bound, and counts what it finds at start.
func TestStoreBound(t *testing.T) {
	dir := t.TempDir()
	s, err := newStore(dir, 10<<10)
	if err != nil {
		t.Fatal(err)
	}
	var ds []digest.Digest
	for i := range 30 {
		body := []byte(`{"n":` + strconv.Itoa(i) + `,"pad":"` + strings.Repeat("p", 1000) + `"}`)
		m := &manifest{body: body, digest: digest.FromBytes(body), mediaType: mediaOCIIndex}
		if err := s.put(m); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, m.digest)
	}
	size, files := dirSize(t, filepath.Join(dir, "tailored"))
	if size > 10<<10 {
		t.Errorf("store holds %d bytes in %d files, bound 10 KiB", size, files)
	}
	if m, _ := s.get(ds[len(ds)-1]); m == nil {
		t.Error("the newest index was collected")
	}
	if m, _ := s.get(ds[0]); m != nil {
		t.Error("the oldest index survived past the bound")
	}
	s2, err := newStore(dir, 10<<10)
	if err != nil {
		t.Fatal(err)
	}
	if s2.total != size || len(s2.files) != files {
		t.Errorf("after a restart the store counts %d bytes in %d files, want %d in %d", s2.total, len(s2.files), size, files)
	}
}

// TestDiskFullTagReads: with the disk full, reads of a tag failed with 500
// because tailoring wrote to the store first, and the error showed the
// server's path. The answer is served from memory now (and pulls by its
// digest too); the failed write is logged and counted.
func TestDiskFullTagReads(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	storage := t.TempDir()
	s, srv := newTestServer(t, WithStorage(storage), WithUpstreams(Upstream{Name: "up", URL: "http://" + up}),
		WithProfile(mustProfile(t, "cpu=haswell")))
	// Every write to the store now fails, as on a full disk: the store's
	// directory is gone and a file stands in its place.
	dir := filepath.Join(storage, "tailored")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, d := rawManifest(t, "http://"+srv+"/v2/app/manifests/v1", nil)
	if _, d2 := rawManifest(t, "http://"+srv+"/v2/app/manifests/"+d, nil); d2 != d {
		t.Errorf("by digest with the store unwritable: %s, want %s", d2, d)
	}
	if got := readTarget(t, srv+"/app:v1", "amd64"); got != "haswell" {
		t.Errorf("pull with the store unwritable got %q", got)
	}
	if n := s.m.storeErrors.Value(); n < 1 {
		t.Errorf("store errors counted: %v, want >= 1", n)
	}
}
