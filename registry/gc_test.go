package registry

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// TestCollectGarbage: blobs no repository links any more (deleted blob
// links, deleted manifests) go once older than the grace period; linked
// ones stay, also a blob deleted from one repository and mounted in
// another.
func TestCollectGarbage(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	reg, base := newTest(t, "", withClock(clk.now))
	body := imageManifest(t, base, "a", nil, []byte("layer of the kept manifest"))
	putManifest(t, base, "a", "v1", MediaOCIManifest, body)
	gone := imageManifest(t, base, "a", nil, []byte("layer of the deleted manifest"))
	goneD := digest.FromBytes(gone)
	putManifest(t, base, "a", string(goneD), MediaOCIManifest, gone)
	do(t, "DELETE", base+"/v2/a/manifests/"+string(goneD), nil)
	shared := pushBlob(t, base, "a", []byte("shared"))
	do(t, "POST", base+"/v2/b/blobs/uploads/?mount="+string(shared)+"&from=a", nil)
	do(t, "DELETE", base+"/v2/a/blobs/"+string(shared), nil)
	deleted := pushBlob(t, base, "a", []byte("deleted"))
	do(t, "DELETE", base+"/v2/a/blobs/"+string(deleted), nil)
	goneLayer := digest.FromString("layer of the deleted manifest")
	do(t, "DELETE", base+"/v2/a/blobs/"+string(goneLayer), nil)

	// Young: nothing goes.
	if n, _, ran, err := reg.collectGarbage(ctx); err != nil || !ran || n != 0 {
		t.Fatalf("collect within the grace period: %d blobs, ran %v, %v", n, ran, err)
	}
	clk.t = clk.t.Add(2 * time.Hour)
	n, size, ran, err := reg.collectGarbage(ctx)
	if err != nil || !ran || n != 3 || size == 0 {
		t.Errorf("collect = %d blobs, %d bytes, ran %v, %v; want 3 (deleted manifest, its layer, deleted blob)", n, size, ran, err)
	}
	for _, d := range []digest.Digest{goneD, deleted, goneLayer} {
		if _, err := reg.blobs.Stat(ctx, d); err == nil {
			t.Errorf("unlinked blob %s kept", d)
		}
	}
	if a := do(t, "GET", base+"/v2/a/manifests/v1", nil); a.status != http.StatusOK {
		t.Errorf("kept manifest: %d", a.status)
	}
	if a := do(t, "GET", base+"/v2/b/blobs/"+string(shared), nil); a.status != http.StatusOK || string(a.body) != "shared" {
		t.Errorf("blob still linked in b: %d", a.status)
	}
	var m manifestJSON
	jsonUnmarshal(body, &m)
	for _, l := range append(m.Layers, *m.Config) {
		if a := do(t, "GET", base+"/v2/a/blobs/"+l.Digest, nil); a.status != http.StatusOK {
			t.Errorf("blob %s of the kept manifest: %d", l.Digest, a.status)
		}
	}
}

// TestCollectorWaitsForPushes: while a request links a blob the
// collector does not start (and does not block the request).
func TestCollectorWaitsForPushes(t *testing.T) {
	reg, _ := newTest(t, "")
	reg.gc.RLock()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, _, ran, _ := reg.collectGarbage(ctx); ran {
		t.Error("the collector ran while a push held the lock")
	}
	reg.gc.RUnlock()
	if _, _, ran, _ := reg.collectGarbage(context.Background()); !ran {
		t.Error("the collector did not run once free")
	}
}
