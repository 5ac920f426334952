package ui_test

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/resolve"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
	"github.com/tailor-dev/tailor/serve"
)

// chromium returns Debian's headless browser, skipping the test when it is
// absent unless TAILOR_REQUIRE_CHROMIUM=1 (CI) makes that a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("TAILOR_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium is not on PATH (apt-get install chromium)")
	}
	t.Skip("chromium is not on PATH")
	return ""
}

func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	home := t.TempDir() // its profile and caches, not the user's
	args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + filepath.Join(home, "profile")}, args...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// TestChromium runs tailor serve (its embedded registry, the view on),
// pushes an index, pulls it tailored for one profile, and renders /ui/ and
// the index page in headless Chromium: the DOM holds the repository, the
// answer, and the matrix inspect draws; a screenshot shows the matrix's
// green cells.
func TestChromium(t *testing.T) {
	bin := chromium(t)
	p, err := profile.ParseSpec("cpu=zen4")
	if err != nil {
		t.Fatal(err)
	}
	s, err := serve.New(serve.WithStorage(t.TempDir()), serve.WithUI(true), serve.WithProfile(p), serve.WithKeychain(authn.NewMultiKeychain()))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	pushed, err := resolvetest.Push(host+"/team/app:1", resolvetest.Variants)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/team/app/manifests/1", nil)
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	home := string(runChromium(t, bin, "--dump-dom", srv.URL+"/ui/"))
	for _, want := range []string{"<td>team/app</td>", `href="/ui/index?repo=team%2Fapp&amp;tag=1"`,
		"<td>team/app:1</td><td><code>cpu=zen4</code></td><td>zen4</td><td><code>" + pushed.Digests["zen4"].String()[:19] + "</code></td><td>1</td>"} {
		if !strings.Contains(home, want) {
			t.Errorf("the home page's DOM lacks %s:\n%s", want, home)
		}
	}

	page := srv.URL + "/ui/index?" + url.Values{"repo": {"team/app"}, "tag": {"1"}}.Encode()
	dom := string(runChromium(t, bin, "--dump-dom", page))
	c, _ := remote.New()
	mx, err := resolve.Inspect(context.Background(), c, host+"/team/app:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dom, `<table id="matrix">`) || !strings.Contains(dom, pushed.Index.String()) {
		t.Fatalf("the DOM has no matrix of %s:\n%s", pushed.Index, dom)
	}
	for _, e := range mx.Entries {
		if !strings.Contains(dom, "<td>"+e.Requirements.String()+"</td>") {
			t.Errorf("the DOM lacks entry %d (%s)", e.Index, e.Requirements)
		}
	}
	gets := 0
	for _, a := range mx.Targets {
		if a.Entry != nil {
			gets++
		}
	}
	if n := strings.Count(dom, `<td class="gets">●</td>`); n != gets || gets == 0 {
		t.Errorf("the DOM marks %d cells, inspect assigns %d targets", n, gets)
	}

	shot := filepath.Join(t.TempDir(), "matrix.png")
	runChromium(t, bin, "--screenshot="+shot, "--window-size=1280,1400", "--hide-scrollbars", page)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 1400 {
		t.Errorf("screenshot is %v", b)
	}
	green := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 2 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			if r>>8 == 0x2e && g>>8 == 0x7d && b>>8 == 0x32 {
				green++
			}
		}
	}
	if green < 50 {
		t.Errorf("the screenshot shows %d pixels of the matrix's green cells: not rendered", green)
	}
	if dir := os.Getenv("TAILOR_UI_SCREENSHOT"); dir != "" {
		data, _ := os.ReadFile(shot)
		_ = os.WriteFile(filepath.Join(dir, "ui-matrix.png"), data, 0o644)
	}
}
