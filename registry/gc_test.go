package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// blobFile is where the registry under root keeps blob d.
func blobFile(root string, d digest.Digest) string {
	return filepath.Join(root, "blobs", d.Algorithm().String(), d.Encoded())
}

// TestCollectGarbage: deleting a manifest frees its layers (gone from
// disk, 404) once older than the grace period; blobs a remaining manifest
// references stay, also when their own link was deleted (an image
// manifest's config and layers, an index's children and theirs, a
// referrer's subject), and so do young unreferenced blobs.
func TestCollectGarbage(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	dir := t.TempDir()
	reg, base := newTest(t, dir, withClock(clk.now))
	body := imageManifest(t, base, "a", nil, []byte("layer of the kept manifest"))
	putManifest(t, base, "a", "v1", MediaOCIManifest, body)
	gone := imageManifest(t, base, "a", nil, []byte("layer of the deleted manifest"))
	goneD := digest.FromBytes(gone)
	putManifest(t, base, "a", "old", MediaOCIManifest, gone)
	goneLayer := digest.FromString("layer of the deleted manifest")
	// Only the manifest is deleted, as a client deleting an image does.
	if a := do(t, "DELETE", base+"/v2/a/manifests/"+string(goneD), nil); a.status != http.StatusAccepted {
		t.Fatalf("delete manifest: %d %s", a.status, a.body)
	}

	// A layer mounted into b and referenced there stays after a's link
	// to it is deleted.
	shared := pushBlob(t, base, "a", []byte("shared"))
	do(t, "POST", base+"/v2/b/blobs/uploads/?mount="+string(shared)+"&from=a", nil)
	bm := imageManifest(t, base, "b", nil)
	var bj map[string]any
	_ = json.Unmarshal(bm, &bj)
	bj["layers"] = []map[string]any{{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": shared, "size": 6}}
	bm, _ = json.Marshal(bj)
	if a := putManifest(t, base, "b", "v1", MediaOCIManifest, bm); a.status != http.StatusCreated {
		t.Fatalf("put b: %d %s", a.status, a.body)
	}
	do(t, "DELETE", base+"/v2/a/blobs/"+string(shared), nil)

	// An index in c whose child manifest was deleted: the child and its
	// layer stay while the index references them.
	child := imageManifest(t, base, "c", nil, []byte("layer of an index's child"))
	childD := digest.FromBytes(child)
	putManifest(t, base, "c", string(childD), MediaOCIManifest, child)
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": MediaOCIIndex,
		"manifests": []map[string]any{{"mediaType": MediaOCIManifest, "digest": childD, "size": len(child)}}})
	if a := putManifest(t, base, "c", "v1", MediaOCIIndex, idx); a.status != http.StatusCreated {
		t.Fatalf("put index: %d %s", a.status, a.body)
	}
	do(t, "DELETE", base+"/v2/c/manifests/"+string(childD), nil)
	childLayer := digest.FromString("layer of an index's child")

	lone := pushBlob(t, base, "a", []byte("pushed, never referenced"))

	// Young: nothing goes.
	if n, _, ran, err := reg.collectGarbage(ctx); err != nil || !ran || n != 0 {
		t.Fatalf("collect within the grace period: %d blobs, ran %v, %v", n, ran, err)
	}
	clk.t = clk.t.Add(2 * time.Hour)
	young := pushBlob(t, base, "a", []byte("pushed within the grace period"))
	n, size, ran, err := reg.collectGarbage(ctx)
	if err != nil || !ran || n != 3 || size == 0 {
		t.Errorf("collect = %d blobs, %d bytes, ran %v, %v; want 3 (deleted manifest, its layer, the lone blob)", n, size, ran, err)
	}
	for _, d := range []digest.Digest{goneD, goneLayer, lone} {
		if _, err := os.Stat(blobFile(dir, d)); !os.IsNotExist(err) {
			t.Errorf("blob %s no manifest references is still on disk (%v)", d, err)
		}
		if a := do(t, "GET", base+"/v2/a/blobs/"+string(d), nil); a.status != http.StatusNotFound {
			t.Errorf("GET of collected blob %s: %d, want 404", d, a.status)
		}
		if exists(reg.layerLink("a", d)) {
			t.Errorf("link to collected blob %s kept", d)
		}
	}
	if a := do(t, "GET", base+"/v2/a/manifests/v1", nil); a.status != http.StatusOK {
		t.Errorf("kept manifest: %d", a.status)
	}
	var m manifestJSON
	_ = jsonUnmarshal(body, &m)
	for _, l := range append(m.Layers, *m.Config) {
		if a := do(t, "GET", base+"/v2/a/blobs/"+l.Digest, nil); a.status != http.StatusOK {
			t.Errorf("blob %s of the kept manifest: %d", l.Digest, a.status)
		}
	}
	if a := do(t, "GET", base+"/v2/b/blobs/"+string(shared), nil); a.status != http.StatusOK || string(a.body) != "shared" {
		t.Errorf("layer referenced by b's manifest: %d", a.status)
	}
	for _, d := range []digest.Digest{childD, childLayer, young} {
		if _, err := os.Stat(blobFile(dir, d)); err != nil {
			t.Errorf("blob %s still referenced (or young) was collected: %v", d, err)
		}
	}
	if a := do(t, "GET", base+"/v2/c/manifests/v1", nil); a.status != http.StatusOK {
		t.Errorf("index: %d", a.status)
	}
}

// TestCollectorDoesNotBlockPushes: while a collection is held up in its
// sweep, a whole push (blobs, manifest) completes, and a push whose
// manifest references an old unreferenced blob the sweep is about to
// remove keeps that blob.
func TestCollectorDoesNotBlockPushes(t *testing.T) {
	for _, phase := range []string{"mark", "sweep"} {
		t.Run(phase, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: time.Now()}
			held := make(chan struct{})
			release := make(chan struct{})
			var once sync.Once
			hook := func(p string) {
				if p == phase {
					once.Do(func() { close(held); <-release })
				}
			}
			dir := t.TempDir()
			reg, base := newTest(t, dir, withClock(clk.now), withGCHook(hook))
			// Something to mark and something to sweep.
			putManifest(t, base, "a", "v1", MediaOCIManifest, imageManifest(t, base, "a", nil, []byte("kept")))
			pushBlob(t, base, "a", []byte("garbage"))
			// An old blob, unreferenced when the collection starts.
			old := pushBlob(t, base, "a", []byte("old layer, referenced during the sweep"))
			clk.t = clk.t.Add(2 * time.Hour)
			oldLink := reg.layerLink("a", old)
			past := time.Now().Add(-3 * time.Hour)
			if err := os.Chtimes(oldLink, past, past); err != nil {
				t.Fatal(err)
			}

			done := make(chan error, 1)
			go func() {
				_, _, _, err := reg.collectGarbage(ctx)
				done <- err
			}()
			select {
			case <-held:
			case <-time.After(10 * time.Second):
				t.Fatal("the collection never reached the hook")
			}
			pushed := make(chan answer, 1)
			go func() {
				cfg := []byte(`{"architecture":"amd64","os":"linux"}`)
				cd := digest.FromBytes(cfg)
				post(base+"/v2/new/blobs/uploads/?digest="+string(cd), cfg)
				post(base+"/v2/new/blobs/uploads/?mount="+string(old)+"&from=a", nil)
				mb, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": MediaOCIManifest,
					"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
					"layers": []map[string]any{{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": old, "size": 38}}})
				pushed <- doQuiet("PUT", base+"/v2/new/manifests/v1", mb, MediaOCIManifest)
			}()
			select {
			case a := <-pushed:
				if a.status != http.StatusCreated {
					t.Errorf("push during the collection: %d %s", a.status, a.body)
				}
			case <-time.After(10 * time.Second):
				t.Error("a push waited for the collection")
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(blobFile(dir, old)); err != nil {
				t.Errorf("the blob a push referenced during the collection was removed: %v", err)
			}
			if a := do(t, "GET", base+"/v2/new/blobs/"+string(old), nil); a.status != http.StatusOK {
				t.Errorf("GET of the blob pushed during the collection: %d", a.status)
			}
		})
	}
}

// post and doQuiet send a request from a goroutine (no t.Fatal).
func post(url string, body []byte) answer { return doQuiet("POST", url, body, "") }

func doQuiet(method, url string, body []byte, ct string) answer {
	req, err := http.NewRequest(method, url, bytesReader(body))
	if err != nil {
		return answer{status: -1, body: []byte(err.Error())}
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{status: -1, body: []byte(err.Error())}
	}
	defer resp.Body.Close()
	b := make([]byte, 4096)
	n, _ := resp.Body.Read(b)
	return answer{status: resp.StatusCode, header: resp.Header, body: b[:n]}
}

// TestCollectorWaitsForImport: an import in progress keeps the collector
// from starting.
func TestCollectorWaitsForImport(t *testing.T) {
	reg, _ := newTest(t, "")
	reg.gc.RLock()
	if _, _, ran, _ := reg.collectGarbage(context.Background()); ran {
		t.Error("the collector ran during an import")
	}
	reg.gc.RUnlock()
	if _, _, ran, _ := reg.collectGarbage(context.Background()); !ran {
		t.Error("the collector did not run once free")
	}
}

// TestGCInterval: WithGCInterval makes the janitor collect that often.
func TestGCInterval(t *testing.T) {
	dir := t.TempDir()
	_, base := newTest(t, dir, WithGCInterval(50*time.Millisecond), withJanitor(time.Hour, 0))
	d := pushBlob(t, base, "a", []byte("unreferenced"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(blobFile(dir, d)); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the janitor never collected an unreferenced blob with --gc-interval 50ms")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func bytesReader(b []byte) io.Reader {
	if b == nil {
		return nil
	}
	return bytes.NewReader(b)
}
