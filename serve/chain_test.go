package serve

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// containerdPull walks a pull as containerd does through a hosts.toml
// mirror: every request carries ?ns=<registry>; the tag, then the chosen
// amd64 manifest by digest, then its config and layers by digest. It
// returns the tailored index digest and the chosen manifest's digest.
func containerdPull(t *testing.T, mirror, repo, ns string) (string, string) {
	t.Helper()
	q := "?ns=" + ns
	body, idxDigest := rawManifest(t, "http://"+mirror+"/v2/"+repo+"/manifests/v1"+q, nil)
	var idx v1.IndexManifest
	if err := json.Unmarshal(body, &idx); err != nil {
		t.Fatal(err)
	}
	var chosen string
	for _, e := range idx.Manifests {
		if e.Platform != nil && e.Platform.Architecture == "amd64" {
			chosen = e.Digest.String()
			break
		}
	}
	// By digest, the tailored index itself and the chosen manifest.
	for _, d := range []string{idxDigest, chosen} {
		if _, got := rawManifest(t, "http://"+mirror+"/v2/"+repo+"/manifests/"+d+q, nil); got != d {
			t.Fatalf("manifest %s by digest through the chain: got %s", d, got)
		}
	}
	mbody, _ := rawManifest(t, "http://"+mirror+"/v2/"+repo+"/manifests/"+chosen+q, nil)
	var m v1.Manifest
	if err := json.Unmarshal(mbody, &m); err != nil {
		t.Fatal(err)
	}
	for _, l := range append([]v1.Descriptor{m.Config}, m.Layers...) {
		resp := get(t, "http://"+mirror+"/v2/"+repo+"/blobs/"+l.Digest.String()+q, nil)
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || n != l.Size {
			t.Fatalf("blob %s through the chain: %d, %d of %d bytes", l.Digest, resp.StatusCode, n, l.Size)
		}
	}
	return idxDigest, chosen
}

// TestChain: node mirror -> central tailor -> registry. The node asks the
// central server for the untailored view and tailors for its own profile;
// containerd's ?ns= is consumed at each hop, so by-digest requests work
// too (they carried ?ns= to the next hop, which refused it).
func TestChain(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	_, centralProxy := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}),
		WithProfile(mustProfile(t, "cpu=skylake_avx512")))
	_, centralEmb := newTestServer(t, WithProfile(mustProfile(t, "cpu=skylake_avx512")))
	pushIndex(t, centralEmb+"/app:v1", variantIndex(t, testVariants))

	for name, central := range map[string]string{"central proxy": centralProxy, "central embedded": centralEmb} {
		t.Run(name, func(t *testing.T) {
			_, node := newTestServer(t, WithUpstreams(Upstream{Name: "example.test", URL: "http://" + central}),
				WithProfile(mustProfile(t, "cpu=haswell")))
			// A ggcr pull (no ns, default upstream) gets the node's choice.
			if got := readTarget(t, node+"/app:v1", "amd64"); got != "haswell" {
				t.Errorf("pull through node -> central got %q, want haswell (the node's profile)", got)
			}
			// The central server's own clients still get its choice.
			if got := readTarget(t, central+"/app:v1", "amd64"); got != "skylake_avx512" {
				t.Errorf("pull from central got %q, want skylake_avx512", got)
			}
			containerdPull(t, node, "app", "example.test")
		})
	}
}

// TestChainPrefix: a central server with several upstreams is reached
// from the node through an upstream URL with a path, the central's
// upstream name: http://central/b asks central for b/<repo>.
func TestChainPrefix(t *testing.T) {
	upA, upB := registrytest.New(t, ""), registrytest.New(t, "")
	pushIndex(t, upA+"/app:v1", variantIndex(t, testVariants[:1]))
	pushIndex(t, upB+"/app:v1", variantIndex(t, testVariants))
	_, central := newTestServer(t, WithUpstreams(Upstream{Name: "a", URL: "http://" + upA}, Upstream{Name: "b", URL: "http://" + upB}),
		WithProfile(mustProfile(t, "cpu=skylake_avx512")))
	_, node := newTestServer(t, WithUpstreams(Upstream{Name: "a.example", URL: "http://" + central + "/a"},
		Upstream{Name: "b.example", URL: "http://" + central + "/b"}), WithProfile(mustProfile(t, "cpu=haswell")))
	_, chosen := containerdPull(t, node, "app", "b.example")
	if got := readTarget(t, node+"/b.example/app:v1", "amd64"); got != "haswell" {
		t.Errorf("pull of b.example/app through the node got %q, want haswell", got)
	}
	if got := readTarget(t, node+"/a.example/app:v1", "amd64"); got != "generic-amd64" {
		t.Errorf("pull of a.example/app through the node got %q, want generic-amd64 (a's only entry)", got)
	}
	if chosen == "" {
		t.Error("no amd64 entry chosen")
	}
	if _, err := New(WithStorage(t.TempDir()), WithUpstreams(Upstream{Name: "x", URL: "http://h/Bad_Prefix"})); err == nil {
		t.Error("an upstream path that is no repository prefix was accepted")
	}
}
