package ui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/resolve"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

// testView starts the distribution registry with the standard test index
// at app:1, and the view of it over tailor's client.
func testView(t *testing.T, log *Log, opts ...Option) (*httptest.Server, string, *resolvetest.Pushed) {
	t.Helper()
	// A catalog as registry:2 serves it by default (distribution as a
	// library leaves it off).
	host := registrytest.New(t, t.TempDir(), func(c *configuration.Configuration) { c.Catalog.MaxEntries = 1000 })
	pushed, err := resolvetest.Push(host+"/team/app:1", resolvetest.Variants)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := resolvetest.Push(host+"/team/app:2", resolvetest.PlainVariants); err != nil {
		t.Fatal(err)
	}
	c, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(RemoteSource(c, host), log, opts...)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(DefaultPrefix, h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, host, pushed
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestHome(t *testing.T) {
	log := NewLog(0)
	srv, _, pushed := testView(t, log)
	log.Record("team/app", "1", "cpu=zen4", pushed.Digests["zen4"], "zen4")
	log.Record("team/app", "1", "cpu=zen4", pushed.Digests["zen4"], "zen4")
	log.Record("team/app", "1", "none", v1.Hash{}, "")
	code, body := get(t, srv.URL+"/ui/")
	if code != http.StatusOK {
		t.Fatalf("GET /ui/: %d\n%s", code, body)
	}
	for _, want := range []string{
		"<h2>Repositories</h2>", "<td>team/app</td>",
		`<a href="/ui/index?repo=team%2Fapp&amp;tag=1">1</a>`, `<a href="/ui/index?repo=team%2Fapp&amp;tag=2">2</a>`,
		"<td><code>cpu=zen4</code></td><td>zen4</td><td><code>" + short(pushed.Digests["zen4"]) + "</code></td><td>2</td>",
		"<td><code>none</code></td><td>untouched</td>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("home lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script") {
		t.Error("the view has a script")
	}
}

// TestIndexPage: the matrix is inspect's, entry by entry and target by
// target.
func TestIndexPage(t *testing.T) {
	log := NewLog(0)
	targets := []string{"x86_64", "haswell", "skylake_avx512", "zen4", "neoverse_v2", "power9le", "cpu=sapphirerapids,gpu=9.0,driver=550.54.14"}
	srv, host, pushed := testView(t, log, WithTargets(targets...))
	log.Record("team/app", "1", "cpu=zen4", pushed.Digests["zen4"], "zen4")
	code, body := get(t, srv.URL+"/ui/index?"+url.Values{"repo": {"team/app"}, "tag": {"1"}}.Encode())
	if code != http.StatusOK {
		t.Fatalf("index page: %d\n%s", code, body)
	}
	c, _ := remote.New()
	mx, err := resolve.Inspect(context.Background(), c, host+"/team/app:1", targets)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, `<code id="digest" class="copy">`+pushed.Index.String()+"</code>") || !strings.Contains(body, "OCI image index of 6 entries") {
		t.Errorf("no index digest or kind:\n%s", body)
	}
	for _, e := range mx.Entries {
		handed := "0"
		if e.Digest == pushed.Digests["zen4"] {
			handed = "1"
		}
		row := fmt.Sprintf("<tr><td>%d</td><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td><td class=\"nw\">", e.Index, short(e.Digest), plat(e.Platform), e.Requirements, handed)
		if !strings.Contains(body, row) {
			t.Errorf("entries table lacks %s", row)
		}
	}
	matrix := body[strings.Index(body, `<table id="matrix">`):]
	for _, a := range mx.Targets {
		start := strings.Index(matrix, "<tr><td>"+a.Target+"</td>")
		if start < 0 {
			t.Fatalf("matrix has no row %s", a.Target)
		}
		row := matrix[start : start+strings.Index(matrix[start:], "</tr>")]
		cells := strings.Split(row, "<td")[2:]
		for i := range mx.Entries {
			gets := strings.HasPrefix(cells[i], ` class="gets"`)
			if want := a.Entry != nil && *a.Entry == i; gets != want {
				t.Errorf("matrix row %s, entry %d: marked %v, inspect says %v", a.Target, i, gets, want)
			}
		}
		if a.Entry == nil && !strings.Contains(row, "no fitting entry") {
			t.Errorf("row %s does not say no entry fits", a.Target)
		}
	}
}

func TestBadRequests(t *testing.T) {
	srv, _, _ := testView(t, nil)
	for path, want := range map[string]int{
		"/ui/index?repo=team/app&tag=nope":                        http.StatusNotFound,
		"/ui/index?repo=..%2Fetc&tag=1":                           http.StatusBadRequest,
		"/ui/index?repo=team/app&tag=" + strings.Repeat("x", 200): http.StatusBadRequest,
		"/ui/index?repo=team/app&tag=%3Cscript%3E":                http.StatusBadRequest,
		"/ui/elsewhere": http.StatusNotFound,
	} {
		code, body := get(t, srv.URL+path)
		if code != want {
			t.Errorf("GET %s: %d, want %d", path, code, want)
		}
		if strings.Contains(body, "<script>") {
			t.Errorf("GET %s echoes markup unescaped", path)
		}
	}
	resp, err := http.Post(srv.URL+"/ui/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}

func TestLogBounded(t *testing.T) {
	l := NewLog(3)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { now = now.Add(time.Second); return now }
	d := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}
	for i := range 5 {
		l.Record("app", fmt.Sprint(i), "cpu=zen4", d, "zen4")
	}
	l.Record("app", "4", "cpu=zen4", d, "zen4")
	as := l.Answers()
	if len(as) != 3 || as[0].Tag != "4" || as[0].Count != 2 || as[2].Tag != "2" {
		t.Errorf("answers %+v, want tags 4 (twice), 3, 2", as)
	}
	if imgs := l.Images(); len(imgs) != 1 || strings.Join(imgs[0].Tags, ",") != "2,3,4" {
		t.Errorf("images %+v", imgs)
	}
	var nilLog *Log
	nilLog.Record("a", "b", "c", d, "") // a server without a log records nothing
	if nilLog.Answers() != nil {
		t.Error("nil log has answers")
	}
}

func short(h v1.Hash) string { return h.Algorithm + ":" + h.Hex[:12] }

func plat(p *v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
