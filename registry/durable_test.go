package registry

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/internal/durable/durabletest"
)

// TestAcknowledgedPushSurvivesPowerLoss: once the registry acknowledged
// a push (blobs, a manifest, its tag, a referrer), a crash that drops
// every byte and rename not synced loses none of it: after a restart
// the tag names the manifest, its blobs are whole, the referrer is
// listed. Removing any sync of the metadata or blob writes makes this
// fail (the process-kill test, TestCrashWhilePushing, cannot: the page
// cache survives a killed process).
func TestAcknowledgedPushSurvivesPowerLoss(t *testing.T) {
	dir := t.TempDir()
	c := durabletest.New()
	reg, base := newTest(t, dir, withFS(c))
	layer := bytes.Repeat([]byte("layer "), 5000)
	body := imageManifest(t, base, "a/b", nil, layer)
	if a := putManifest(t, base, "a/b", "v1", MediaOCIManifest, body); a.status != http.StatusCreated {
		t.Fatalf("put: %d %s", a.status, a.body)
	}
	d := digest.FromBytes(body)
	ref := imageManifest(t, base, "a/b", map[string]any{
		"subject": map[string]any{"mediaType": MediaOCIManifest, "digest": d, "size": len(body)}})
	if a := putManifest(t, base, "a/b", string(digest.FromBytes(ref)), MediaOCIManifest, ref); a.status != http.StatusCreated {
		t.Fatalf("put referrer: %d %s", a.status, a.body)
	}
	if err := c.Crash(); err != nil {
		t.Fatal(err)
	}
	reg.Close()

	_, base = newTest(t, dir)
	a := do(t, "GET", base+"/v2/a/b/manifests/v1", nil)
	if a.status != http.StatusOK || !bytes.Equal(a.body, body) {
		t.Fatalf("acknowledged manifest after the crash: %d %q", a.status, a.body)
	}
	if a := do(t, "GET", base+"/v2/a/b/blobs/"+string(digest.FromBytes(layer)), nil); a.status != http.StatusOK || !bytes.Equal(a.body, layer) {
		t.Errorf("acknowledged layer after the crash: %d, %d bytes", a.status, len(a.body))
	}
	if a := do(t, "GET", base+"/v2/a/b/referrers/"+string(d), nil); a.status != http.StatusOK || !bytes.Contains(a.body, []byte(digest.FromBytes(ref))) {
		t.Errorf("acknowledged referrer after the crash: %d %s", a.status, a.body)
	}
}
