package serve

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/internal/registrytest"
)

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestWebViewMirror: a mirror's view lists the images it served, by
// upstream, with each answer per profile, and draws their matrices read
// through the upstream.
func TestWebViewMirror(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/team/app:1", variantIndex(t, testVariants))
	_, host := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: "http://" + up}), WithProfile(mustProfile(t, "cpu=skylake_avx512")), WithUI(true))
	accept := http.Header{"Accept": {"application/vnd.oci.image.index.v1+json"}}
	for _, path := range []string{"/v2/team/app/manifests/1", "/v2/team/app/manifests/1?ns=up", "/v2/_p/cpu=haswell/team/app/manifests/1", "/v2/_p/none/team/app/manifests/1"} {
		if resp := get(t, "http://"+host+path, accept); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body(t, resp))
		} else {
			resp.Body.Close()
		}
	}
	home := body(t, get(t, "http://"+host+"/ui/", nil))
	for _, want := range []string{
		"Images served recently", "<td>up/team/app</td>", `href="/ui/index?repo=up%2Fteam%2Fapp&amp;tag=1"`,
		"<td><code>cpu=skylake_avx512</code></td><td>skylake_avx512</td>", "</code></td><td>2</td>",
		"<td><code>cpu=haswell</code></td><td>haswell</td>", "<td><code>none</code></td><td>untouched</td>",
	} {
		if !strings.Contains(home, want) {
			t.Errorf("/ui/ lacks %s:\n%s", want, home)
		}
	}
	page := body(t, get(t, "http://"+host+"/ui/index?"+url.Values{"repo": {"up/team/app"}, "tag": {"1"}}.Encode(), nil))
	for _, want := range []string{"OCI image index of 5 entries", `<table id="matrix">`, "<td>cpu=skylake_avx512</td><td>2</td>"} {
		if !strings.Contains(page, want) {
			t.Errorf("index page lacks %s:\n%s", want, page)
		}
	}
	if resp := get(t, "http://"+host+"/ui/index?repo=elsewhere/app&tag=1", nil); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("an image of no upstream: %d", resp.StatusCode)
	}
}

// TestWebViewOff: without WithUI, /ui/ is no page of the server.
func TestWebViewOff(t *testing.T) {
	_, host := newTestServer(t)
	resp := get(t, "http://"+host+"/ui/", nil)
	b := body(t, resp)
	if resp.StatusCode == http.StatusOK || strings.Contains(b, "<html") {
		t.Errorf("/ui/ without WithUI: %d %s", resp.StatusCode, b)
	}
}

// TestWebViewEmbedded: a registry's view lists its repositories and tags.
func TestWebViewEmbedded(t *testing.T) {
	_, host := newTestServer(t, WithProfile(mustProfile(t, "cpu=haswell")), WithUI(true))
	pushIndex(t, host+"/team/app:1", variantIndex(t, testVariants))
	pushIndex(t, host+"/tools:2", variantIndex(t, testVariants[:1]))
	if resp := get(t, "http://"+host+"/v2/team/app/manifests/1", http.Header{"Accept": {"application/vnd.oci.image.index.v1+json"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("pull: %d", resp.StatusCode)
	} else {
		resp.Body.Close()
	}
	home := body(t, get(t, "http://"+host+"/ui/", nil))
	for _, want := range []string{"<h2>Repositories</h2>", "<td>team/app</td>", "<td>tools</td>", `href="/ui/index?repo=tools&amp;tag=2"`, "<td><code>cpu=haswell</code></td><td>haswell</td>"} {
		if !strings.Contains(home, want) {
			t.Errorf("/ui/ lacks %s:\n%s", want, home)
		}
	}
	if page := body(t, get(t, "http://"+host+"/ui/index?repo=team/app&tag=1", nil)); !strings.Contains(page, "OCI image index of 5 entries") {
		t.Errorf("index page:\n%s", page)
	}
}
