package resolve

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

// plainChoices maps a host to the entry of resolvetest.PlainVariants it
// must get: the best x86-64 level the variant names.
var plainChoices = []struct{ spec, want string }{
	{"cpu=core2", "generic"},
	{"cpu=nehalem", "v2"},
	{"cpu=haswell", "v3"},
	{"cpu=zen2", "v3"},
	{"cpu=sapphirerapids", "v4"},
	{"cpu=zen4", "v4"},
	{"cpu=neoverse_v2", "arm64"},
}

// TestResolveDockerManifestList resolves Docker manifest lists (the media
// type docker buildx and older tools push) of Docker schema 2 images: one
// with tailor annotations on its descriptors, one with plain amd64/vN
// variants only.
func TestResolveDockerManifestList(t *testing.T) {
	for regName, host := range registries(t) {
		t.Run(regName, func(t *testing.T) {
			c := newClient(t)
			for _, list := range []struct {
				repo     string
				variants []resolvetest.Variant
				choices  []struct{ spec, want string }
			}{
				{"annotated", resolvetest.Variants, hostChoices},
				{"plain", resolvetest.PlainVariants, plainChoices},
			} {
				ref := host + "/" + list.repo + ":1"
				pushed, err := resolvetest.PushList(ref, list.variants)
				if err != nil {
					t.Fatal(err)
				}
				m, err := c.Get(context.Background(), ref)
				if err != nil || m.MediaType != types.DockerManifestList {
					t.Fatalf("Get(%s) = %v, %v; want a Docker manifest list", ref, m, err)
				}
				for _, hc := range list.choices {
					res, err := Resolve(context.Background(), c, ref, mustProfile(t, hc.spec))
					if err != nil {
						t.Errorf("%s: Resolve for %s: %v", list.repo, hc.spec, err)
						continue
					}
					if want := pushed.Digests[hc.want]; res.Digest != want || res.Index == nil || *res.Index != pushed.Index {
						t.Errorf("%s: Resolve for %s = %s (index %v), want %s %s", list.repo, hc.spec, res.Digest, res.Index, hc.want, want)
					}
					if res.Chosen.Descriptor.MediaType != types.DockerManifestSchema2 {
						t.Errorf("%s: chosen entry is a %s, want a Docker schema 2 image", list.repo, res.Chosen.Descriptor.MediaType)
					}
				}
			}
		})
	}
}

func TestInspectDockerManifestList(t *testing.T) {
	host := registries(t)["distribution"]
	pushed, err := resolvetest.PushList(host+"/plain:1", resolvetest.PlainVariants)
	if err != nil {
		t.Fatal(err)
	}
	mx, err := Inspect(context.Background(), newClient(t), host+"/plain:1", []string{"core2", "haswell", "zen4", "neoverse_v2"})
	if err != nil {
		t.Fatal(err)
	}
	if mx.MediaType != types.DockerManifestList || mx.Digest != pushed.Index || len(mx.Entries) != len(resolvetest.PlainVariants) {
		t.Fatalf("Inspect = %s %s, %d entries; want the Docker list %s of %d", mx.MediaType, mx.Digest, len(mx.Entries), pushed.Index, len(resolvetest.PlainVariants))
	}
	if r := mx.Entries[2].Requirements; r == nil || r.Target != "x86_64_v3" || mx.Entries[2].MediaType != types.DockerManifestSchema2 {
		t.Errorf("entry 2 = %+v, want a Docker schema 2 image needing x86_64_v3 (from its variant)", mx.Entries[2])
	}
	want := map[string]string{"core2": "generic", "haswell": "v3", "zen4": "v4", "neoverse_v2": "arm64"}
	for _, a := range mx.Targets {
		if a.Digest == nil || *a.Digest != pushed.Digests[want[a.Target]] {
			t.Errorf("target %s got %v, want %s", a.Target, a.Digest, want[a.Target])
		}
	}
}
