package serve

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/tailor-dev/tailor/internal/registrytest"
)

func getBody(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestWebViewPages: GET / leads to the view; an unknown tag is a 404 page;
// a plain single image is shown as one; the home page says how the
// server is set up; answers survive a restart of the server.
func TestWebViewPages(t *testing.T) {
	storage := t.TempDir()
	_, host := newTestServer(t, WithStorage(storage), WithProfile(mustProfile(t, "cpu=haswell")), WithUI(true))
	if code, _, h := getBody(t, "http://"+host+"/"); code != http.StatusFound || h.Get("Location") != "/ui/" {
		t.Errorf("GET /: %d to %q, want a redirect to /ui/", code, h.Get("Location"))
	}
	pushIndex(t, host+"/app:v1", variantIndex(t, testVariants))
	img := registrytest.Image(t, v1.Platform{OS: "linux", Architecture: "amd64"}, map[string]string{"x": "y"})
	ref, _ := name.ParseReference(host + "/plain:1")
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := getBody(t, "http://"+host+"/ui/index?repo=app&tag=nope"); code != http.StatusNotFound || !strings.Contains(body, "not found") {
		t.Errorf("unknown tag: %d\n%s", code, body)
	}
	d, _ := img.Digest()
	if code, body, _ := getBody(t, "http://"+host+"/ui/index?repo=plain&tag=1"); code != http.StatusOK || !strings.Contains(body, "A single image") || !strings.Contains(body, d.String()) || !strings.Contains(body, "linux/amd64") {
		t.Errorf("single image: %d\n%s", code, body)
	}
	code, body, _ := getBody(t, "http://"+host+"/ui/index?repo=app&tag=v1")
	if code != http.StatusOK || !strings.Contains(body, `<table class="layers">`) {
		t.Errorf("index page without the entries' layers (read through the server): %d\n%s", code, body)
	}
	_, home, _ := getBody(t, "http://"+host+"/ui/")
	for _, want := range []string{`<table id="settings">`, "<th>default profile</th><td>cpu=haswell</td>", "embedded (no upstream)", "docker/podman login changes nothing here"} {
		if !strings.Contains(home, want) {
			t.Errorf("home lacks %q:\n%s", want, home)
		}
	}
}
