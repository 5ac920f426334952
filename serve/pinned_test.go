package serve

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/internal/registrytest"
)

// pinTag is the pin tag of a digest sha256:<hex>.
func pinTag(d string) string { return strings.Replace(d, ":", "-", 1) + PinTagSuffix }

// TestPinnedIndexTailored: a manifest by pin tag is the tailored answer of
// exactly the index its digest names (the same bytes as by tag while the
// tag named it, and still after the tag moved on); a pinned image manifest
// is answered as it is, an unknown digest is not found, and the untailored
// view gets the index byte for byte.
func TestPinnedIndexTailored(t *testing.T) {
	up := registrytest.New(t, "")
	idx1 := variantIndex(t, testVariants)
	pushIndex(t, up+"/app:v1", idx1)
	d1, err := idx1.Digest()
	if err != nil {
		t.Fatal(err)
	}
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}),
		WithProfile(mustProfile(t, "cpu=haswell")), WithTagTTL(0))
	_, byTag := fetchIndex(t, srv+"/app:v1")
	pinned := srv + "/app:" + pinTag(d1.String())
	if _, byPin := fetchIndex(t, pinned); byPin != byTag {
		t.Errorf("by pin tag %s, by tag %s: want the same tailored answer", byPin, byTag)
	}
	// The tag moves to an index without the haswell build: the pin holds.
	pushIndex(t, up+"/app:v1", variantIndex(t, []variant{{"", "amd64"}, {"", "arm64"}}))
	if got := readTarget(t, srv+"/app:v1", "amd64"); got != "generic-amd64" {
		t.Fatalf("by the moved tag: %s, want generic-amd64", got)
	}
	if got := readTarget(t, pinned, "amd64"); got != "haswell" {
		t.Errorf("by pin tag after the tag moved: %s, want haswell from the pinned index", got)
	}
	if got := readTarget(t, pinned, "arm64"); got != "generic-arm64" {
		t.Errorf("arm64 by pin tag: %s, want generic-arm64 (no profile for arm64 here: the arm64 entry kept)", got)
	}
	// The untailored view: the pinned index's own bytes.
	resp := get(t, "http://"+srv+"/v2/_p/none/app/manifests/"+pinTag(d1.String()), http.Header{"Accept": {mediaOCIIndex}})
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Docker-Content-Digest") != d1.String() {
		t.Errorf("untailored pin: status %d digest %s, want 200 %s", resp.StatusCode, resp.Header.Get("Docker-Content-Digest"), d1)
	}
	// A pinned image manifest (not an index) passes through untouched.
	im, err := idx1.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	child := im.Manifests[0].Digest.String()
	resp = get(t, "http://"+srv+"/v2/app/manifests/"+pinTag(child), http.Header{"Accept": {mediaOCIManifest}})
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Docker-Content-Digest") != child {
		t.Errorf("pinned image manifest: status %d digest %s, want 200 %s", resp.StatusCode, resp.Header.Get("Docker-Content-Digest"), child)
	}
	// Unknown digests and malformed pin tags are not found.
	for _, tag := range []string{pinTag("sha256:" + strings.Repeat("0", 64)), "sha256-beef" + PinTagSuffix} {
		resp = get(t, "http://"+srv+"/v2/app/manifests/"+tag, http.Header{"Accept": {mediaOCIIndex}})
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s: status %d (%s), want 404", tag, resp.StatusCode, body)
		}
	}
}

func TestPinnedDigest(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	if d, ok := pinnedDigest("sha256-" + hex + ".tailor"); !ok || d.String() != "sha256:"+hex {
		t.Errorf("pinnedDigest = %s %v", d, ok)
	}
	for _, bad := range []string{"v1", "sha256-" + hex, "sha256-" + hex + ".sig", "sha256-" + hex[:62] + ".tailor", "sha256-" + strings.ToUpper(hex) + ".tailor", "sha256:" + hex + ".tailor", ".tailor"} {
		if _, ok := pinnedDigest(bad); ok {
			t.Errorf("pinnedDigest(%q) ok", bad)
		}
	}
}
