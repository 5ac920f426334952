package serve

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// buildLevelIndex is an index as tailor build writes one for the x86-64
// levels and haswell: level-only entries carry their variant, the named
// target plain os/arch and its annotation.
func buildLevelIndex(t testing.TB) v1.ImageIndex {
	t.Helper()
	var idx v1.ImageIndex = mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, e := range []struct{ target, variant string }{
		{"", ""}, {"x86_64_v2", "v2"}, {"x86_64_v3", "v3"}, {"x86_64_v4", "v4"}, {"haswell", ""},
	} {
		label := e.target
		if label == "" {
			label = "generic"
		}
		p := v1.Platform{OS: "linux", Architecture: "amd64", Variant: e.variant}
		img := registrytest.Image(t, p, map[string]string{"target": label})
		img = mutate.MediaType(img, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		desc := v1.Descriptor{Platform: &p}
		if e.target != "" {
			desc.Annotations = map[string]string{"dev.tailor.cpu.target": e.target}
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: desc})
	}
	return idx
}

// TestTailoredAnswerKeepsLowerLevels pulls a tailored tag the way a client
// that asks for a platform does (ggcr, like docker 20.10, wants the
// variant exactly): the plain platform and the chosen level get the
// tailored build, a lower level its own level build, a higher level
// nothing.
func TestTailoredAnswerKeepsLowerLevels(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", buildLevelIndex(t))
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}), WithLogin(true))
	for spec, want := range map[string]map[string]string{
		"cpu=x86_64_v4": {"": "x86_64_v4", "v4": "x86_64_v4", "v3": "x86_64_v3", "v2": "x86_64_v2"},
		"cpu=icelake":   {"": "x86_64_v4", "v4": "x86_64_v4", "v3": "x86_64_v3", "v2": "x86_64_v2"},
		"cpu=haswell":   {"": "haswell", "v3": "haswell", "v2": "x86_64_v2", "v4": ""},
		"cpu=zen2":      {"": "x86_64_v3", "v3": "x86_64_v3", "v2": "x86_64_v2", "v4": ""},
		"cpu=x86_64":    {"": "generic", "v2": "", "v3": ""},
	} {
		t.Run(spec, func(t *testing.T) {
			auth := remote.WithAuth(&authn.Basic{Username: spec, Password: "x"})
			r, err := name.ParseReference(srv + "/app:v1")
			if err != nil {
				t.Fatal(err)
			}
			for variant, w := range want {
				img, err := remote.Image(r, auth, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64", Variant: variant}))
				if w == "" {
					if err == nil {
						t.Errorf("linux/amd64/%s: got %s, want no entry (above the profile's choice)", variant, imageFile(t, img, "target"))
					}
					continue
				}
				if err != nil {
					t.Errorf("linux/amd64/%s: %v", variant, err)
					continue
				}
				if got := imageFile(t, img, "target"); got != w {
					t.Errorf("linux/amd64/%s: got %s, want %s", variant, got, w)
				}
			}
		})
	}
}
