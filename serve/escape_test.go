package serve

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/requirement"
)

// levelIndex is an index of a generic amd64 build and one whose only
// requirement is its platform variant (amd64/v4, no annotations): the
// encoding that loses its meaning when an answer reduces the platform to
// plain os/arch. Each image's /target names its build.
func levelIndex(t testing.TB) v1.ImageIndex {
	t.Helper()
	var idx v1.ImageIndex = mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, e := range []struct{ variant, label string }{{"", "generic-amd64"}, {"v4", "x86_64_v4"}} {
		p := v1.Platform{OS: "linux", Architecture: "amd64", Variant: e.variant}
		img := registrytest.Image(t, p, map[string]string{"target": e.label})
		img = mutate.MediaType(img, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return idx
}

// TestCopiedAnswerNeverEscapes: an x86_64_v4 host's answer, copied whole
// into a plain registry (what `skopeo copy --all` and `docker push` of a
// pulled answer do), and mirrored through another tailor, is not handed to
// a haswell host (it would die with SIGILL); a v4 host still gets it; the
// embedded registry refuses to store the answer at all.
func TestCopiedAnswerNeverEscapes(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", levelIndex(t))
	_, a := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}),
		WithProfile(mustProfile(t, "cpu=x86_64_v4")))
	ar, _ := name.ParseReference(a + "/app:v1")
	answerIdx, err := remote.Index(ar)
	if err != nil {
		t.Fatal(err)
	}
	im, err := answerIdx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) == 0 || im.Annotations[AnnotationSourceIndex] == "" {
		t.Fatalf("the v4 host's answer: %+v", im)
	}
	// Beside the chosen entry, an answer keeps only level entries (for a
	// client that asks for a variant): each says its level in its platform.
	for _, e := range im.Manifests[1:] {
		if e.Platform == nil || e.Platform.Variant == "" {
			t.Errorf("answer entry %s beside the chosen one has no level: %+v", e.Digest, e.Platform)
		}
	}
	// The answer's entry says its real target, though its platform is plain amd64.
	if e := im.Manifests[0]; e.Platform.Variant != "" || e.Annotations[requirement.AnnotationCPUTarget] != "x86_64_v4" {
		t.Errorf("answer entry: platform %+v annotations %v, want plain amd64 with %s=x86_64_v4",
			e.Platform, e.Annotations, requirement.AnnotationCPUTarget)
	}

	// The copy, in a plain registry (distribution), mirrored through tailor.
	plain := registrytest.New(t, "")
	pushIndex(t, plain+"/copy:v1", answerIdx)
	_, b := newTestServer(t, WithUpstreams(Upstream{Name: "plain", URL: "http://" + plain}), WithLogin(true))
	haswell := remote.WithAuth(&authn.Basic{Username: "cpu=haswell", Password: "x"})
	r, _ := name.ParseReference(b + "/copy:v1")
	if img, err := remote.Image(r, haswell, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"})); err == nil {
		t.Errorf("a haswell host pulled the copied v4 answer through tailor and got %q; want no entry", imageFile(t, img, "target"))
	} else if !strings.Contains(err.Error(), "no entry of the index runs") {
		t.Errorf("haswell pull of the copy: %v, want no entry of the index runs", err)
	}
	v4 := remote.WithAuth(&authn.Basic{Username: "cpu=x86_64_v4", Password: "x"})
	if got := readTarget(t, b+"/copy:v1", "amd64", v4); got != "x86_64_v4" {
		t.Errorf("a v4 host pulled %q from the copy, want x86_64_v4", got)
	}

	// An answer made before answers carried their needs (only the
	// selection mark says the target) is matched by that mark too.
	old := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	old = mutate.Annotations(old, map[string]string{AnnotationSourceIndex: im.Annotations[AnnotationSourceIndex]}).(v1.ImageIndex)
	child, err := answerIdx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	old = mutate.AppendManifests(old, mutate.IndexAddendum{Add: child, Descriptor: v1.Descriptor{
		Platform:    &v1.Platform{OS: "linux", Architecture: "amd64"},
		Annotations: map[string]string{AnnotationSelectedTarget: "x86_64_v4", AnnotationSelectedFrom: im.Manifests[0].Digest.String()},
	}})
	pushIndex(t, plain+"/old:v1", old)
	r, _ = name.ParseReference(b + "/old:v1")
	if img, err := remote.Image(r, haswell, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"})); err == nil {
		t.Errorf("a haswell host pulled an old-style v4 answer through tailor and got %q", imageFile(t, img, "target"))
	}

	// The embedded registry refuses to store an answer, with a clear OCI error.
	_, c := newTestServer(t, WithProfile(mustProfile(t, "cpu=haswell")))
	cr, _ := name.ParseReference(c + "/copy:v1")
	err = remote.WriteIndex(cr, answerIdx)
	var te *transport.Error
	if !errors.As(err, &te) || te.StatusCode != http.StatusForbidden || len(te.Errors) == 0 ||
		te.Errors[0].Code != transport.DeniedErrorCode || !strings.Contains(te.Errors[0].Message, "tailored answer") {
		t.Errorf("pushing an answer into the embedded registry: %v, want 403 DENIED naming a tailored answer", err)
	}
}

// TestOneEntryIndexMatched: a published one-entry index whose entry needs
// more than the host has is matched, not passed through; one whose entry
// is generic passes through byte for byte.
func TestOneEntryIndexMatched(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/one:v1", variantIndex(t, []variant{{"skylake_avx512", "amd64"}}))
	pushIndex(t, up+"/gen:v1", variantIndex(t, []variant{{"", "amd64"}}))
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}),
		WithProfile(mustProfile(t, "cpu=haswell")))
	resp := get(t, "http://"+srv+"/v2/one/manifests/v1", http.Header{"Accept": {mediaOCIIndex}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("haswell host, one skylake_avx512 entry: status %d, want 404", resp.StatusCode)
	}
	resp = get(t, "http://"+srv+"/v2/gen/manifests/v1", http.Header{"Accept": {mediaOCIIndex}})
	resp.Body.Close()
	_, want := fetchIndex(t, up+"/gen:v1")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Docker-Content-Digest") != want.String() {
		t.Errorf("one generic entry: status %d digest %s, want 200 and the upstream's %s", resp.StatusCode, resp.Header.Get("Docker-Content-Digest"), want)
	}
}
