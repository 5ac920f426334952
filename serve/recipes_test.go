package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// TestAnswersSurviveHostileIndexes (D14): after 30 requests for hostile
// indexes of almost 4 MiB (each a different tag, each answer as large),
// which push every earlier answer out of memory and the store, a pull by
// the digest of a good answer still works: it is made again from its
// source.
func TestAnswersSurviveHostileIndexes(t *testing.T) {
	index := func(tag string, pad int) []byte {
		entries := []map[string]any{
			{"mediaType": mediaOCIManifest, "digest": digest.FromString("generic").String(), "size": 100,
				"platform": map[string]string{"os": "linux", "architecture": "amd64"}},
			{"mediaType": mediaOCIManifest, "digest": digest.FromString("haswell").String(), "size": 100,
				"platform":    map[string]string{"os": "linux", "architecture": "amd64"},
				"annotations": map[string]string{"dev.tailor.cpu.target": "haswell"}},
		}
		for i := range pad {
			entries = append(entries, map[string]any{"mediaType": mediaOCIManifest, "digest": digest.FromString(tag + fmt.Sprint(i)).String(), "size": 100,
				"platform":    map[string]string{"os": "linux", "architecture": "arm64"},
				"annotations": map[string]string{"org.example.pad": strings.Repeat("p", 4000)}})
		}
		b, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mediaOCIIndex, "manifests": entries})
		return b
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tag, ok := strings.CutPrefix(r.URL.Path, "/v2/app/manifests/")
		if !ok {
			w.WriteHeader(http.StatusOK)
			return
		}
		pad := 950 // just under 4 MiB
		if tag == "good" {
			pad = 2
		}
		body := index(tag, pad)
		w.Header().Set("Content-Type", mediaOCIIndex)
		w.Header().Set("Docker-Content-Digest", digest.FromBytes(body).String())
		_, _ = w.Write(body)
	}))
	t.Cleanup(up.Close)
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: up.URL}), WithProfile(mustProfile(t, "cpu=haswell")))
	accept := http.Header{"Accept": {mediaOCIIndex}}
	resp := get(t, "http://"+srv+"/v2/app/manifests/good", accept)
	resp.Body.Close()
	good := resp.Header.Get("Docker-Content-Digest")
	if resp.StatusCode != http.StatusOK || good == "" {
		t.Fatalf("good tag: %d", resp.StatusCode)
	}
	for i := range 30 {
		resp := get(t, fmt.Sprintf("http://%s/v2/app/manifests/hostile%d", srv, i), accept)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("hostile tag %d: %d", i, resp.StatusCode)
		}
	}
	resp = get(t, "http://"+srv+"/v2/app/manifests/"+good, accept)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Docker-Content-Digest") != good {
		t.Errorf("the good answer by digest after 30 hostile indexes: %d, want 200", resp.StatusCode)
	}
}
