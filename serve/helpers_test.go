package serve

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/profile"
)

// variant is one entry of a test index: the target it was built for
// ("" = generic) and its architecture.
type variant struct {
	target, arch string
}

var testVariants = []variant{
	{"", "amd64"}, {"haswell", "amd64"}, {"skylake_avx512", "amd64"}, {"", "arm64"}, {"neoverse_v2", "arm64"},
}

// variantIndex builds an index whose entries each hold /target naming the
// target they were built for.
func variantIndex(t testing.TB, vs []variant) v1.ImageIndex {
	t.Helper()
	var idx v1.ImageIndex = empty.Index
	idx = mutate.IndexMediaType(idx, types.OCIImageIndex)
	for _, v := range vs {
		label := v.target
		if label == "" {
			label = "generic-" + v.arch
		}
		img := registrytest.Image(t, v1.Platform{OS: "linux", Architecture: v.arch}, map[string]string{"target": label})
		img = mutate.MediaType(img, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		desc := v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: v.arch}}
		if v.target != "" {
			desc.Annotations = map[string]string{"dev.tailor.cpu.target": v.target}
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: desc})
	}
	return idx
}

func pushIndex(t testing.TB, ref string, idx v1.ImageIndex) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

func mustProfile(t testing.TB, spec string) *profile.Profile {
	t.Helper()
	p, err := profile.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newTestServer starts a Server on loopback and returns its host:port.
func newTestServer(t testing.TB, opts ...Option) (*Server, string) {
	t.Helper()
	if !hasStorage(opts) {
		opts = append(opts, WithStorage(t.TempDir()))
	}
	opts = append([]Option{WithKeychain(authn.NewMultiKeychain())}, opts...)
	s, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, strings.TrimPrefix(ts.URL, "http://")
}

func hasStorage(opts []Option) bool {
	o := &options{profiles: map[string]*profile.Profile{}}
	for _, opt := range opts {
		_ = opt(o)
	}
	return o.storage != ""
}

// readTarget pulls ref for linux/arch through ggcr and returns /target.
func readTarget(t testing.TB, ref, arch string, opts ...remote.Option) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: arch}))
	img, err := remote.Image(r, opts...)
	if err != nil {
		t.Fatalf("pull %s: %v", ref, err)
	}
	return imageFile(t, img, "target")
}

func get(t testing.TB, url string, header http.Header) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
