package registry

import (
	"net/http"
	"strings"
	"testing"
)

// TestOddInput: every odd name, tag or digest gets a clean 4xx with the
// OCI error body, for every method, never a panic or a path of the server
// (issue 8: %00, %20, %25, %7F, %0a panicked the old embedded registry,
// v1%3Fx was read as v1).
func TestOddInput(t *testing.T) {
	dir := t.TempDir()
	_, base := newTest(t, dir)
	// A real v1, so that a parser cutting v1%3Fx at the "?" would find it.
	body := imageManifest(t, base, "team/app", nil, []byte("layer"))
	if a := putManifest(t, base, "team/app", "v1", MediaOCIManifest, body); a.status != http.StatusCreated {
		t.Fatalf("push v1: %d %s", a.status, a.body)
	}
	long := strings.Repeat("a", 300)
	paths := []string{
		"/v2/team/app/manifests/v1%00", "/v2/team/app/manifests/v1%20", "/v2/team/app/manifests/v1%25",
		"/v2/team/app/manifests/v1%7F", "/v2/team/app/manifests/v1%0a", "/v2/team/app/manifests/v1%3Fx",
		"/v2/team/app/manifests/%00", "/v2/team/app/manifests/..", "/v2/team/app/manifests/.v1",
		"/v2/team/app/manifests/" + strings.Repeat("t", 129), "/v2/team/app/manifests/sha256:abc",
		"/v2/team/app/manifests/sha256:" + strings.Repeat("A", 64), "/v2/team/app/manifests/md5:" + strings.Repeat("a", 32),
		"/v2/team/../app/manifests/v1", "/v2/../../etc/manifests/v1", "/v2/Team/app/manifests/v1",
		"/v2/team//app/manifests/v1", "/v2/team/app%00/manifests/v1", "/v2/" + long + "/manifests/v1",
		"/v2/team/app/blobs/sha256:../../x", "/v2/team/app/blobs/v1", "/v2/team/app/blobs/%00",
		"/v2/team/app/blobs/uploads/..", "/v2/team/app/blobs/uploads/%00", "/v2/team/app/blobs/uploads/nosuchid",
		"/v2/team/app/referrers/v1", "/v2/team/app/referrers/sha256:%00", "/v2/team/app/tags/list%00",
		"/v2/team/app/nothing/v1", "/v2/team/app", "/v2/_catalog/x", "/v3/", "/v2/-app/tags/list",
		"/v2/team/app/manifests/", "/v2/team/app/blobs/",
	}
	for _, p := range paths {
		for _, method := range []string{"GET", "HEAD", "PUT", "DELETE", "PATCH", "POST"} {
			a := do(t, method, base+p, []byte("{}"), "Content-Type", MediaOCIManifest)
			if a.status < 400 || a.status >= 500 {
				t.Errorf("%s %s = %d, want 4xx (%s)", method, p, a.status, a.body)
				continue
			}
			if method != "HEAD" && a.errorCode() == "" {
				t.Errorf("%s %s = %d without an OCI error body: %q", method, p, a.status, a.body)
			}
			noPath(t, a.body, dir)
		}
	}
	// v1 itself is untouched.
	if a := do(t, "GET", base+"/v2/team/app/manifests/v1", nil); a.status != http.StatusOK || string(a.body) != string(body) {
		t.Errorf("GET v1 after the odd requests: %d", a.status)
	}
}

func TestValidNameAndTag(t *testing.T) {
	for s, ok := range map[string]bool{
		"a": true, "team/app": true, "a.b_c__d-e---f/g0": true, "a/b/c/d": true, strings.Repeat("a", 255): true,
		"": false, "A": false, "a/": false, "/a": false, "a//b": false, "a..b": false, "a___b": false, "-a": false,
		"a-": false, "a_": false, "_a": false, "a/.b": false, "a/../b": false, "a b": false, "a\x00": false,
		strings.Repeat("a", 256): false, "a/_manifests": false, "a:b": false,
	} {
		if validName(s) != ok {
			t.Errorf("validName(%.40q) = %v, want %v", s, !ok, ok)
		}
	}
	for s, ok := range map[string]bool{
		"v1": true, "_x": true, "V1.0-rc_1": true, strings.Repeat("t", 128): true, "latest": true,
		"": false, ".v1": false, "-v1": false, "v1?x": false, "v1 ": false, "v1\x00": false, "v/1": false,
		strings.Repeat("t", 129): false, "v1:2": false, "..": false,
	} {
		if validTag(s) != ok {
			t.Errorf("validTag(%.40q) = %v, want %v", s, !ok, ok)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	for in, want := range map[string][2]int64{
		"0-9": {0, 9}, "10-10": {10, 10}, "bytes=0-4": {0, 4}, "bytes 5-6": {5, 6},
	} {
		s, e, ok := parseContentRange(in)
		if !ok || s != want[0] || e != want[1] {
			t.Errorf("parseContentRange(%q) = %d, %d, %v; want %v", in, s, e, ok, want)
		}
	}
	for _, in := range []string{"", "-", "5-", "-5", "9-0", "a-b", "+1-2", "1-+2", "-1-2", "0-99999999999999999999", "1 - 2", "0-1/10"} {
		if s, e, ok := parseContentRange(in); ok {
			t.Errorf("parseContentRange(%q) = %d, %d, ok", in, s, e)
		}
	}
}
