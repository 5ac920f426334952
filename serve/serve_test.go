package serve

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/profile"
)

func fetchIndex(t *testing.T, ref string, opts ...remote.Option) (*v1.IndexManifest, v1.Hash) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(r, opts...)
	if err != nil {
		t.Fatalf("index %s: %v", ref, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	return im, d
}

func TestProxyTailorsIndex(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}), WithLogin(true))

	for spec, want := range map[string]map[string]string{
		"cpu=skylake_avx512": {"amd64": "skylake_avx512", "arm64": "generic-arm64"},
		"cpu=haswell":        {"amd64": "haswell"},
		"cpu=x86_64_v2":      {"amd64": "generic-amd64"},
		"cpu=icelake":        {"amd64": "skylake_avx512"},
		"cpu=neoverse_v2":    {"arm64": "neoverse_v2", "amd64": "generic-amd64"},
	} {
		t.Run(spec, func(t *testing.T) {
			// Profile by login: the Basic user name is the spec.
			auth := remote.WithAuth(&authn.Basic{Username: spec, Password: "x"})
			im, d := fetchIndex(t, srv+"/app:v1", auth)
			im2, d2 := fetchIndex(t, srv+"/app:v1", auth)
			if d != d2 {
				t.Errorf("tailored digest not deterministic: %s then %s", d, d2)
			}
			_ = im2
			p := mustProfile(t, spec)
			// The selected entry comes first, as plain os/arch; it may
			// come again with its level's variant (levelEntries).
			var arch string
			var sel v1.Descriptor
			for _, e := range im.Manifests {
				if e.Annotations[AnnotationSelectedFrom] == "" {
					continue
				}
				if e.Annotations[AnnotationSelectedTarget] == "" {
					t.Errorf("selected entry without %s", AnnotationSelectedTarget)
				}
				if arch == "" {
					arch, sel = e.Platform.Architecture, e
					if e.Platform.Variant != "" || len(e.Platform.Features) > 0 {
						t.Errorf("selected platform %+v, want plain os/arch", e.Platform)
					}
					continue
				}
				if e.Digest != sel.Digest || e.Platform.Variant == "" {
					t.Errorf("second selected entry %s %+v, want %s again with its level's variant", e.Digest, e.Platform, sel.Digest)
				}
			}
			if arch != p.Architecture {
				t.Fatalf("no selected entry for %s in %+v", p.Architecture, im.Manifests)
			}
			if im.Annotations[AnnotationSourceIndex] == "" {
				t.Errorf("no %s annotation", AnnotationSourceIndex)
			}
			for a, w := range want {
				if got := readTarget(t, srv+"/app:v1", a, auth); got != w {
					t.Errorf("%s pull for %s got %q, want %q", spec, a, got, w)
				}
			}
			// The same profile by path prefix gives the same digest.
			resp := get(t, "http://"+srv+"/v2/_p/"+spec+"/app/manifests/v1", http.Header{"Accept": {mediaOCIIndex}})
			resp.Body.Close()
			if d3 := resp.Header.Get("Docker-Content-Digest"); d3 != d.String() {
				t.Errorf("path-prefix digest %s, login digest %s", d3, d)
			}
			// A pull by the tailored digest works.
			if _, d4 := fetchIndex(t, srv+"/app@"+d.String(), auth); d4 != d {
				t.Errorf("by digest: %s, want %s", d4, d)
			}
		})
	}
}

func TestImageManifestForClientWithoutIndex(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}),
		WithProfile(mustProfile(t, "cpu=haswell")))
	resp := get(t, "http://"+srv+"/v2/app/manifests/v1", http.Header{"Accept": {mediaOCIManifest + ", " + mediaDockerImage}})
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != mediaOCIManifest {
		t.Fatalf("status %d type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	m, err := v1.ParseManifest(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(srv + "/app@" + resp.Header.Get("Docker-Content-Digest"))
	img, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	if got := imageFile(t, img, "target"); got != "haswell" || len(m.Layers) != 1 {
		t.Errorf("image manifest for a no-index client is %q, want haswell", got)
	}
}

func TestPassThroughPlainIndex(t *testing.T) {
	up := registrytest.New(t, "")
	plain := variantIndex(t, []variant{{"", "amd64"}, {"", "arm64"}})
	pushIndex(t, up+"/plain:v1", plain)
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}),
		WithProfile(mustProfile(t, "cpu=zen3")))
	want, _ := plain.Digest()
	if _, got := fetchIndex(t, srv+"/plain:v1"); got != want {
		t.Errorf("plain index digest through serve %s, want %s (untouched)", got, want)
	}
}

func TestProfileErrors(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}), WithLogin(true),
		WithProfiles(map[string]*profile.Profile{"big": mustProfile(t, "cpu=sapphirerapids")}))
	base := "http://" + srv + "/v2/app/manifests/v1"
	cases := []struct {
		name, url, user string
		status          int
	}{
		{"anonymous", base, "", 401},
		{"unknown name", base, "nosuch", 401},
		{"bad spec", base, "cpu=pentium9", 401},
		{"named", base, "big", 200},
		{"spec", base, "cpu=zen2", 200},
		{"bad path profile", "http://" + srv + "/v2/_p/cpu=nope/app/manifests/v1", "", 400},
		{"path profile", "http://" + srv + "/v2/_p/big/app/manifests/v1", "", 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, c.url, nil)
			if c.user != "" {
				req.SetBasicAuth(c.user, "pw")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Errors []struct{ Code, Message string } `json:"errors"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d (%+v)", resp.StatusCode, c.status, body)
			}
			if c.status >= 400 && (len(body.Errors) != 1 || body.Errors[0].Message == "") {
				t.Errorf("no OCI error body: %+v", body)
			}
			if c.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without challenge")
			}
		})
	}
}

func TestEmbeddedRegistry(t *testing.T) {
	dir := t.TempDir()
	_, srv := newTestServer(t, WithStorage(dir), WithProfile(mustProfile(t, "cpu=skylake_avx512")))
	pushIndex(t, srv+"/team/app:v1", variantIndex(t, testVariants))
	_, d := fetchIndex(t, srv+"/team/app:v1")
	if got := readTarget(t, srv+"/team/app:v1", "amd64"); got != "skylake_avx512" {
		t.Errorf("embedded pull got %q, want skylake_avx512", got)
	}
	// Restart on the same storage: the tailored digest is still served.
	_, srv2 := newTestServer(t, WithStorage(dir), WithProfile(mustProfile(t, "cpu=haswell")))
	if _, d2 := fetchIndex(t, srv2+"/team/app@"+d.String()); d2 != d {
		t.Errorf("after restart by digest %s, want %s", d2, d)
	}
	if got := readTarget(t, srv2+"/team/app:v1", "amd64"); got != "haswell" {
		t.Errorf("after restart, haswell pull got %q", got)
	}
}
