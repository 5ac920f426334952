package serve_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tailor-dev/tailor/cmd/tailor/cli"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/serve"
)

// tailorServe starts an embedded tailoring registry whose default profile
// is cpu=haswell, as an operator runs one, and pushes the test index to
// app:v1.
func tailorServe(t *testing.T) string {
	t.Helper()
	p, err := profile.ParseSpec("cpu=haswell")
	if err != nil {
		t.Fatal(err)
	}
	s, err := serve.New(serve.WithStorage(t.TempDir()), serve.WithProfile(p), serve.WithKeychain(authn.NewMultiKeychain()))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	host := strings.TrimPrefix(ts.URL, "http://")
	ref, _ := name.ParseReference(host + "/app:v1")
	if err := ggcr.WriteIndex(ref, serve.VariantIndex(t)); err != nil {
		t.Fatal(err)
	}
	return host
}

func tailorCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Execute(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestAnnotateThroughTailoringRegistry: `tailor index annotate` against a
// tailoring registry used to read the tailored view and push it back,
// dropping every entry but the one its default profile gets. It now reads
// the whole index (Tailor-Profile: none) and keeps every entry.
func TestAnnotateThroughTailoringRegistry(t *testing.T) {
	host := tailorServe(t)
	ref := host + "/app:v1"
	code, out, stderr := tailorCLI(t, "inspect", ref, "-o", "json")
	if code != 0 || strings.Count(out, `"digest"`) < 6 {
		t.Fatalf("inspect through the tailoring registry: exit %d, %s %s", code, out, stderr)
	}
	idx := serve.VariantIndex(t)
	im, _ := idx.IndexManifest()
	entry := im.Manifests[0].Digest.String() // the generic amd64 entry
	code, out, stderr = tailorCLI(t, "index", "annotate", ref, "--entry", entry, "cpu=x86_64_v2")
	if code != 0 {
		t.Fatalf("annotate through the tailoring registry: exit %d: %s %s", code, out, stderr)
	}
	r, _ := name.ParseReference(ref)
	got, err := ggcr.Index(r, ggcr.WithTransport(remote.ProfileTransport(http.DefaultTransport, remote.ProfileNone)))
	if err != nil {
		t.Fatal(err)
	}
	gm, _ := got.IndexManifest()
	if len(gm.Manifests) != len(im.Manifests) {
		t.Errorf("after annotate the tag holds %d entries, want all %d", len(gm.Manifests), len(im.Manifests))
	}
	if gm.Annotations[serve.AnnotationSourceIndex] != "" {
		t.Error("annotate pushed a tailored answer back to the tag")
	}
}

// TestResolveThroughTailoringRegistry: tailor resolve through a tailoring
// registry sees every entry: --profile cpu=x86_64 gets the generic one,
// which the server's haswell default would hide.
func TestResolveThroughTailoringRegistry(t *testing.T) {
	host := tailorServe(t)
	idx := serve.VariantIndex(t)
	im, _ := idx.IndexManifest()
	code, out, stderr := tailorCLI(t, "resolve", host+"/app:v1", "--profile", "cpu=x86_64")
	if code != 0 || !strings.Contains(out, im.Manifests[0].Digest.String()) {
		t.Errorf("resolve --profile cpu=x86_64: exit %d, %q %s; want the generic entry %s", code, out, stderr, im.Manifests[0].Digest)
	}
}
