package serve

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/resolve"
)

// rawManifest GETs url with an index-accepting Accept header and returns
// the body and Docker-Content-Digest; the status must be 200.
func rawManifest(t *testing.T, url string, header http.Header) ([]byte, string) {
	t.Helper()
	if header == nil {
		header = http.Header{}
	}
	header.Set("Accept", mediaOCIIndex+", "+mediaOCIManifest)
	resp := get(t, url, header)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return body, resp.Header.Get("Docker-Content-Digest")
}

// TestUntailoredView: the profile none (path prefix, header, login user)
// gets the upstream's index byte for byte, on a proxy and on the
// embedded registry; others still get a tailored one.
func TestUntailoredView(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	want, wantDigest := rawManifest(t, "http://"+up+"/v2/app/manifests/v1", nil)

	_, proxy := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}),
		WithProfile(mustProfile(t, "cpu=haswell")))
	_, login := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}), WithLogin(true))
	_, emb := newTestServer(t, WithProfile(mustProfile(t, "cpu=haswell")))
	pushIndex(t, emb+"/app:v1", variantIndex(t, testVariants))

	none := http.Header{ProfileHeader: {ProfileNone}}
	basicNone := http.Header{"Authorization": {"Basic " + basic(ProfileNone, "x")}}
	for _, c := range []struct {
		name, url string
		header    http.Header
	}{
		{"proxy path prefix", "http://" + proxy + "/v2/_p/none/app/manifests/v1", nil},
		{"proxy header", "http://" + proxy + "/v2/app/manifests/v1", none},
		{"login user none", "http://" + login + "/v2/app/manifests/v1", basicNone},
		{"embedded path prefix", "http://" + emb + "/v2/_p/none/app/manifests/v1", nil},
		{"embedded header", "http://" + emb + "/v2/app/manifests/v1", none},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, d := rawManifest(t, c.url, c.header)
			if !bytes.Equal(got, want) || d != wantDigest {
				t.Errorf("untailored view: %s (%d bytes), want the upstream's %s (%d bytes) byte for byte", d, len(got), wantDigest, len(want))
			}
		})
	}
	// Without the header the default profile still tailors.
	got, _ := rawManifest(t, "http://"+proxy+"/v2/app/manifests/v1", nil)
	if bytes.Equal(got, want) {
		t.Error("a client without a profile got the untailored index from a server with --profile cpu=haswell")
	}
}

// TestTailorClientSeesEveryEntry: tailor's own client (remote.Client sends
// Tailor-Profile: none) sees every entry through a tailoring mirror, so
// resolve --profile cpu=x86_64 finds the generic entry the server would
// never hand a haswell client.
func TestTailorClientSeesEveryEntry(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}),
		WithProfile(mustProfile(t, "cpu=skylake_avx512")))
	c, err := remote.New(remote.WithKeychain(authn.NewMultiKeychain()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	entries, err := c.Index(ctx, srv+"/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(testVariants) {
		t.Errorf("tailor's client saw %d entries through the mirror, want all %d", len(entries), len(testVariants))
	}
	res, err := resolve.Resolve(ctx, c, srv+"/app:v1", mustProfile(t, "cpu=x86_64"))
	if err != nil {
		t.Fatalf("resolve --profile cpu=x86_64 through the mirror: %v", err)
	}
	direct, err := resolve.Resolve(ctx, c, up+"/app:v1", mustProfile(t, "cpu=x86_64"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != direct.Digest {
		t.Errorf("through the mirror resolve chose %s, directly %s", res.Digest, direct.Digest)
	}
	// A client asked for a profile gets the tailored view: one plain
	// amd64 entry (and the chosen one again with its level's variant,
	// levelEntries), the arm64 ones as they are.
	c2, _ := remote.New(remote.WithKeychain(authn.NewMultiKeychain()), remote.WithServerProfile("cpu=haswell"))
	entries, err = c2.Index(ctx, srv+"/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	amd64, arm64 := 0, 0
	for _, e := range entries {
		switch {
		case e.Platform.Architecture == "amd64" && e.Platform.Variant == "":
			amd64++
		case e.Platform.Architecture == "arm64":
			arm64++
		}
	}
	if amd64 != 1 || arm64 != 2 {
		t.Errorf("with WithServerProfile the client saw %d plain amd64 entries and %d arm64; want 1 and 2", amd64, arm64)
	}
}

func basic(user, pass string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(user, pass)
	_, enc, _ := bytes.Cut([]byte(req.Header.Get("Authorization")), []byte(" "))
	return string(enc)
}

// TestTailoredAnswerIgnoresSpelling: profiles spelled differently that
// choose the same entry get the same bytes (one answer per entry).
func TestTailoredAnswerIgnoresSpelling(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}))
	var first string
	for _, spec := range []string{"cpu=icelake", "cpu=skylake_avx512", "cpu=icelake,label.rack=a7", "cpu=sapphirerapids,gpu=8.0,driver=550.54.14"} {
		_, d := rawManifest(t, "http://"+srv+"/v2/_p/"+spec+"/app/manifests/v1", nil)
		if first == "" {
			first = d
		} else if d != first {
			t.Errorf("%s got %s, cpu=icelake got %s: the answer depends on the spelling", spec, d, first)
		}
	}
}
