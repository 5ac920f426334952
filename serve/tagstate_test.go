package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// bigIndexUpstream serves, for every tag of app, a tailorable index of
// about 2 MiB: the same one for every tag, or one per tag when distinct.
func bigIndexUpstream(t *testing.T, distinct bool) string {
	t.Helper()
	entries := []map[string]any{{"mediaType": mediaOCIManifest, "digest": digest.FromString("generic").String(), "size": 100,
		"platform": map[string]string{"os": "linux", "architecture": "amd64"}}}
	for i := range 500 {
		entries = append(entries, map[string]any{"mediaType": mediaOCIManifest, "digest": digest.FromString(fmt.Sprint(i)).String(), "size": 100,
			"platform":    map[string]string{"os": "linux", "architecture": "amd64"},
			"annotations": map[string]string{"dev.tailor.cpu.target": "haswell", "org.example.pad": strings.Repeat("p", 4000)}})
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tag, ok := strings.CutPrefix(r.URL.Path, "/v2/app/manifests/")
		if !ok {
			w.WriteHeader(http.StatusOK)
			return
		}
		ann := map[string]string{}
		if distinct {
			ann["tag"] = tag
		}
		body, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mediaOCIIndex, "manifests": entries, "annotations": ann})
		w.Header().Set("Content-Type", mediaOCIIndex)
		w.Header().Set("Docker-Content-Digest", digest.FromBytes(body).String())
		_, _ = w.Write(body)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}

// TestTagStateBounded (D2): a mirror asked for 40 upstream tags of a
// 2 MiB index keeps one parsed source and tag records of digests (the
// manifest is in the content cache, once); 40 distinct 2 MiB indexes stay
// within the sources' bound in memory and, without a content cache,
// within the records' bound on disk.
func TestTagStateBounded(t *testing.T) {
	for _, c := range []struct {
		name      string
		distinct  bool
		cacheSize int64
	}{{"one index, cache on", false, 100 << 20}, {"distinct indexes, cache off", true, 0}} {
		t.Run(c.name, func(t *testing.T) {
			up := bigIndexUpstream(t, c.distinct)
			storage := t.TempDir()
			s, srv := newTestServer(t, WithStorage(storage), WithUpstreams(Upstream{Name: "up", URL: up}),
				WithCacheSize(c.cacheSize), WithProfile(mustProfile(t, "cpu=haswell")))
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := range 40 {
				resp := get(t, fmt.Sprintf("http://%s/v2/app/manifests/t%d", srv, i), http.Header{"Accept": {mediaOCIIndex}})
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("tag %d: %d", i, resp.StatusCode)
				}
			}
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			t.Logf("heap grew %d MiB; sources %d MiB (%d); tag records %d KiB on disk",
				grew>>20, s.sources.bytes>>20, s.sources.lru.Len(), dirBytes(t, filepath.Join(storage, "cache", "tags"))>>10)
			if s.sources.bytes > sourceMemBytes {
				t.Errorf("sources weigh %d bytes, over their bound %d", s.sources.bytes, sourceMemBytes)
			}
			if !c.distinct && s.sources.lru.Len() != 1 {
				t.Errorf("%d sources kept for one index", s.sources.lru.Len())
			}
			records := dirBytes(t, filepath.Join(storage, "cache", "tags"))
			if limit := int64(maxTagRecordBytes + (4 << 20)); records > limit || !c.distinct && records > 1<<20 {
				t.Errorf("tag records hold %d bytes on disk", records)
			}
			if grew > 120<<20 {
				t.Errorf("the heap grew %d MiB for 40 tags", grew>>20)
			}
		})
	}
}
