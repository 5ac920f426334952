package serve

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/distspec"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/serve/auth"
)

// What serve reads from the network, fuzzed: the route (path and query),
// references, the profile in the path, header and login, the token
// request (form, Basic credentials, scopes). Seeds are in
// testdata/fuzz/<Fuzz...>/ and below. Run one with
//
//	go test -run '^$' -fuzz FuzzServeHTTP -fuzztime 60s ./serve/

// fuzzServer is one embedded server and one proxy (in front of a real
// registry holding the test index), made once per fuzz target.
func fuzzServers(f *testing.F) (*Server, *Server, string) {
	f.Helper()
	up := registrytest.New(f, "")
	pushIndex(f, up+"/app:v1", variantIndex(f, testVariants))
	storage := f.TempDir()
	emb, err := New(WithStorage(storage), WithProfile(mustProfile(f, "cpu=haswell")),
		WithProfiles(nil), WithLogin(false))
	if err != nil {
		f.Fatal(err)
	}
	proxy, err := New(WithStorage(f.TempDir()), WithUpstreams(Upstream{Name: "up", URL: "http://" + up}),
		WithProfile(mustProfile(f, "cpu=haswell")))
	if err != nil {
		f.Fatal(err)
	}
	return emb, proxy, storage
}

// checkAnswer fails when an answer is no valid HTTP answer, an error
// without an OCI error body (when oci: the embedded registry answers some
// requests in its own way), or tells the server's storage path.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, path, storage string, oci bool) {
	t.Helper()
	if rec.Code < 100 || rec.Code > 599 {
		t.Fatalf("%q: status %d", path, rec.Code)
	}
	body := rec.Body.Bytes()
	if bytes.Contains(body, []byte(storage)) {
		t.Fatalf("%q: the answer tells the storage path: %s", path, body)
	}
	if oci && rec.Code >= 400 && len(body) > 0 && strings.HasPrefix(path, "/v2") {
		var e struct{ Errors []json.RawMessage }
		if json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 {
			t.Fatalf("%q: %d without an OCI error body: %q", path, rec.Code, body)
		}
	}
}

func FuzzServeHTTP(f *testing.F) {
	for _, s := range [][4]string{
		{"GET", "/v2/app/manifests/v1", "", ""},
		{"GET", "/v2/_p/cpu=zen3/app/manifests/v1", "ns=docker.io", ""},
		{"HEAD", "/v2/_p/none/app/manifests/v1", "", "none"},
		{"GET", "/v2/app/manifests/v1\x00", "", ""},
		{"GET", "/v2/app/manifests/v1?x", "", ""},
		{"GET", "/v2/app/blobs/sha256:" + strings.Repeat("0", 64), "", ""},
		{"PUT", "/v2/app/manifests/v1", "", ""},
		{"POST", "/v2/app/blobs/uploads/", "digest=sha256:00", ""},
		{"PATCH", "/v2/app/blobs/uploads/../../x", "", ""},
		{"GET", "/v2/app/tags/list", "n=1&last=a", "cpu=haswell,gpu=8.0"},
		{"GET", "/v2/_catalog", "", ""},
		{"GET", "/v2/app/referrers/sha256:" + strings.Repeat("a", 64), "artifactType=x", ""},
		{"DELETE", "/v2/a/b/c/manifests/sha512:00", "", ""},
		{"GET", "/v2/_p//app/manifests/v1", "ns=%00", "cpu="},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	emb, proxy, storage := fuzzServers(f)
	f.Fuzz(func(t *testing.T, method, path, query, prof string) {
		if !strings.HasPrefix(path, "/") || len(path) > 4096 || len(query) > 4096 || len(prof) > 4096 {
			return
		}
		switch method {
		case "GET", "HEAD", "PUT", "POST", "PATCH", "DELETE":
		default:
			return
		}
		for _, s := range []*Server{emb, proxy} {
			req := &http.Request{
				Method: method, URL: &url.URL{Path: path, RawQuery: query}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), ContentLength: 2,
				RemoteAddr: "192.0.2.1:1", Host: "tailor.test",
			}
			req = req.WithContext(t.Context())
			if prof != "" {
				req.Header.Set(ProfileHeader, prof)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			checkAnswer(t, rec, path, storage, s == proxy)
		}
	})
}

func FuzzParseRoute(f *testing.F) {
	for _, p := range []string{"/v2/", "/v2/_p/none/a/b/manifests/v1", "/v2/a/blobs/uploads/x-y", "/v2/a/manifests/sha256:zz", "/v2/_catalog", "/v3/", "/v2/A/manifests/v1", "/v2/a//b/tags/list"} {
		f.Add(p, "ns=docker.io")
	}
	_, proxy, _ := fuzzServers(f)
	f.Fuzz(func(t *testing.T, path, query string) {
		r := &http.Request{Method: "GET", URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{}}
		rt, err := proxy.parseRoute(r)
		if (rt == nil) == (err == nil) {
			t.Fatalf("parseRoute(%q) = %v, %v: want a route or an error", path, rt, err)
		}
		if err != nil {
			if err.Status < 400 || err.Status > 499 {
				t.Fatalf("parseRoute(%q): status %d, want 4xx", path, err.Status)
			}
			return
		}
		if rt.kind != routeBase && rt.kind != routeCatalog && (!distspec.ValidName(rt.name) || rt.be == nil) {
			t.Fatalf("parseRoute(%q) accepted name %q (backend %v)", path, rt.name, rt.be)
		}
		if rt.kind == routeManifest && checkRef(rt) != nil {
			t.Fatalf("parseRoute(%q) accepted reference %q", path, rt.ref)
		}
	})
}

func FuzzTokenRequest(f *testing.F) {
	f.Add("GET", "service=tailor&scope=repository:app:pull", "", "alice", "pw")
	f.Add("POST", "", "grant_type=password&username=alice&password=pw&scope=repository:app:pull,push&service=tailor", "", "")
	f.Add("POST", "", "grant_type=refresh_token&refresh_token=x", "", "")
	f.Add("GET", "scope=repository:a:pull+push&scope=registry:catalog:*", "", "cpu=zen3", "")
	f.Add("GET", "service=other", "", "none", "x")
	path := writeHtpasswd(f, map[string]string{"alice": "pw"})
	s, err := New(WithStorage(f.TempDir()), WithHtpasswd(path), WithLogin(true))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, query, form, user, pass string) {
		if method != "GET" && method != "POST" {
			return
		}
		req := &http.Request{
			Method: method, URL: &url.URL{Path: tokenPath, RawQuery: query}, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader(form)), ContentLength: int64(len(form)), RemoteAddr: "192.0.2.2:1", Host: "tailor.test",
		}
		req = req.WithContext(t.Context())
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var tr tokenResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &tr); err != nil || tr.Token == "" {
				t.Fatalf("200 without a token: %q", rec.Body.String())
			}
			c, err := s.tokens.Verify(tr.Token)
			if err != nil {
				t.Fatalf("issued token does not verify: %v", err)
			}
			if c.Subject != "" && (c.Subject != "alice" || pass != "pw") && method == "GET" {
				t.Fatalf("a token for %q issued to %q/%q", c.Subject, user, pass)
			}
			for _, a := range c.Access {
				if c.Subject == "" && (a.Type == "repository" && containsPush(a.Actions)) {
					t.Fatalf("an anonymous or profile token grants push: %+v", c)
				}
			}
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusMethodNotAllowed, http.StatusTooManyRequests, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("token request: status %d: %s", rec.Code, rec.Body.String())
		}
	})
}

func containsPush(actions []string) bool {
	for _, a := range actions {
		if a == auth.ActionPush {
			return true
		}
	}
	return false
}
