package serve

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/opencontainers/go-digest"
)

// selectedTarget GETs the index of ref's tag through srv for the profile
// spelled spec and returns the target the tailored answer selected and
// the answer's digest.
func selectedTarget(t *testing.T, url, spec string) (string, string) {
	t.Helper()
	resp := get(t, url, http.Header{ProfileHeader: {spec}, "Accept": {mediaOCIIndex}})
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s as %s: %d %s", url, spec, resp.StatusCode, body)
	}
	var im v1.IndexManifest
	if err := json.Unmarshal(body, &im); err != nil {
		t.Fatal(err)
	}
	for _, d := range im.Manifests {
		if tg := d.Annotations[AnnotationSelectedTarget]; tg != "" && d.Platform.Architecture == "amd64" {
			return tg, resp.Header.Get("Docker-Content-Digest")
		}
	}
	t.Fatalf("GET %s as %s: no amd64 entry selected: %s", url, spec, body)
	return "", ""
}

// TestChoicePerIndexAndClass checks that a tailored answer is chosen once
// per (source index, profile class): spellings of one profile share the
// choice, another profile gets its own, and an index pushed under the
// same tag is chosen from anew (its digest is another key).
func TestChoicePerIndexAndClass(t *testing.T) {
	s, srv := newTestServer(t, WithProfile(mustProfile(t, "cpu=haswell")))
	pushIndex(t, srv+"/team/app:v1", variantIndex(t, testVariants))
	url := "http://" + srv + "/v2/team/app/manifests/v1"
	n0 := s.memo.choices.Len() // the push's own reads, for the server's profile

	a, da := selectedTarget(t, url, "cpu=skylake_avx512,label.rack=r1")
	b, db := selectedTarget(t, url, "label.rack=r1,cpu=skylake_avx512")
	if a != "skylake_avx512" || b != a || db != da {
		t.Errorf("two spellings of one profile: %s (%s) and %s (%s), want skylake_avx512 and one answer", a, da, b, db)
	}
	if n := s.memo.choices.Len() - n0; n != 1 {
		t.Errorf("after two spellings of one profile: %d choices kept, want 1", n)
	}
	if c, _ := selectedTarget(t, url, "cpu=broadwell"); c != "haswell" {
		t.Errorf("broadwell got %s, want haswell", c)
	}
	if n := s.memo.choices.Len() - n0; n != 2 {
		t.Errorf("after a second profile: %d choices kept, want 2", n)
	}

	// The tag moves to an index without the skylake_avx512 build.
	pushIndex(t, srv+"/team/app:v1", variantIndex(t, []variant{{"", "amd64"}, {"haswell", "amd64"}, {"", "arm64"}}))
	n0 = s.memo.choices.Len() - 2
	if c, _ := selectedTarget(t, url, "label.rack=r1,cpu=skylake_avx512"); c != "haswell" {
		t.Errorf("after the tag moved: skylake_avx512 got %s, want haswell", c)
	}
	if n := s.memo.choices.Len() - n0; n != 3 {
		t.Errorf("after the tag moved: %d choices kept, want 3", n)
	}
}

// TestSourceParsedOnce checks that an index read again is not parsed
// again: the parse is kept by the index's digest.
func TestSourceParsedOnce(t *testing.T) {
	s := &Server{sources: newSourceCache(sourceMemBytes)}
	m := &manifest{mediaType: mediaOCIIndex}
	idx := variantIndex(t, testVariants)
	raw, err := idx.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	m.body, m.digest = raw, digest.Digest(d.String())
	first, err := s.sourceOf(m)
	if err != nil || first.idx == nil {
		t.Fatalf("sourceOf: %v, %+v", err, first)
	}
	again, _ := s.sourceOf(&manifest{mediaType: m.mediaType, body: append([]byte(nil), raw...), digest: m.digest})
	if again != first {
		t.Error("the same index was parsed twice")
	}
	if w := sourceWeight(first); s.sources.bytes != w {
		t.Errorf("parsed sources weigh %d, want %d", s.sources.bytes, w)
	}
}

// TestEmbeddedBodiesFollowTags: the embedded backend keeps manifest
// bodies by digest, but reads the tag every time: a push that moves the
// tag and a delete of the manifest show at once.
func TestEmbeddedBodiesFollowTags(t *testing.T) {
	_, srv := newTestServer(t, WithProfile(mustProfile(t, "cpu=haswell")))
	url := "http://" + srv + "/v2/team/app/manifests/v1"
	none := http.Header{ProfileHeader: {ProfileNone}, "Accept": {mediaOCIIndex}}
	digestOf := func() (int, string) {
		resp := get(t, url, none)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Docker-Content-Digest")
	}
	first := variantIndex(t, testVariants)
	pushIndex(t, srv+"/team/app:v1", first)
	want, _ := first.Digest()
	for range 2 { // the second read is the kept body's
		if code, d := digestOf(); code != http.StatusOK || d != want.String() {
			t.Fatalf("GET v1: %d %s, want %s", code, d, want)
		}
	}
	second := variantIndex(t, testVariants[:2])
	pushIndex(t, srv+"/team/app:v1", second)
	want, _ = second.Digest()
	if code, d := digestOf(); code != http.StatusOK || d != want.String() {
		t.Fatalf("GET v1 after the tag moved: %d %s, want %s", code, d, want)
	}
	req, _ := http.NewRequest(http.MethodDelete, "http://"+srv+"/v2/team/app/manifests/"+want.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("DELETE: %s", resp.Status)
	}
	if code, d := digestOf(); code != http.StatusNotFound {
		t.Errorf("GET v1 after its manifest was deleted: %d %s, want 404", code, d)
	}
}
