package registry

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParsePath: any path parses without a panic, and what it accepts
// maps to files inside the repository's own directory.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"/v2/", "/v2/_catalog", "/v2/team/app/manifests/v1", "/v2/a/blobs/uploads/", "/v2/a/blobs/uploads/0123",
		"/v2/a/blobs/sha256:" + strings.Repeat("a", 64), "/v2/a/tags/list", "/v2/a/referrers/sha256:" + strings.Repeat("b", 64),
		"/v2/a/manifests/v1\x00", "/v2/../x/manifests/v1", "/v2/a/manifests/v1?x", "/v2/a/manifests/manifests/v1",
		"/v2/a/blobs/uploads/../../x", "/v2/a//b/tags/list",
	} {
		f.Add(s)
	}
	reg := &Registry{root: "/srv/reg"}
	f.Fuzz(func(t *testing.T, p string) {
		rt, base, catalog, err := parsePath(p)
		if err != nil || base || catalog {
			if err != nil && (err.Status < 400 || err.Status >= 500 || len(err.Error()) > 400) {
				t.Fatalf("parsePath(%q): error %v", p, err)
			}
			return
		}
		if !validName(rt.name) || strings.Contains(rt.arg, "/") {
			t.Fatalf("parsePath(%q) = %+v: invalid name or argument", p, rt)
		}
		repo := reg.repoDir(rt.name)
		if rel, err := filepath.Rel(reg.reposDir(), repo); err != nil || strings.HasPrefix(rel, "..") || filepath.ToSlash(rel) != rt.name {
			t.Fatalf("parsePath(%q): repository %q maps to %s", p, rt.name, repo)
		}
		if rt.kind != kindManifest {
			return
		}
		rf, rerr := parseReference(rt.arg)
		if rerr != nil {
			return
		}
		var file string
		if rf.tag != "" {
			file = reg.tagPath(rt.name, rf.tag)
		} else {
			file = reg.manifestLink(rt.name, rf.digest)
		}
		if filepath.Dir(filepath.Dir(file)) != repo && filepath.Dir(filepath.Dir(filepath.Dir(file))) != repo {
			t.Fatalf("parsePath(%q): reference %q maps to %s, outside %s", p, rt.arg, file, repo)
		}
	})
}

// FuzzParseContentRange: no panic; what is accepted is a range that
// formats back to itself.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"0-0", "0-9", "bytes=1-2", "5-4", "-1-2", "0-99999999999999999999", "+1-2", "1--2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, end, ok := parseContentRange(s)
		if !ok {
			return
		}
		if start < 0 || end < start {
			t.Fatalf("parseContentRange(%q) = %d, %d", s, start, end)
		}
		s2, e2, ok2 := parseContentRange(fmt.Sprintf("%d-%d", start, end))
		if !ok2 || s2 != start || e2 != end {
			t.Fatalf("parseContentRange(%q) = %d-%d does not round-trip", s, start, end)
		}
	})
}

// FuzzParseManifest: any body and Content-Type parse without a panic;
// an accepted manifest has a known type and digests the store can hold.
func FuzzParseManifest(f *testing.F) {
	f.Add(`{"schemaVersion":2,"mediaType":"`+MediaOCIManifest+`","config":{"digest":"sha256:`+strings.Repeat("a", 64)+`","size":2},"layers":[]}`, MediaOCIManifest)
	f.Add(`{"schemaVersion":2,"manifests":[{"digest":"sha512:`+strings.Repeat("b", 128)+`"}],"subject":{"digest":"x"}}`, "")
	f.Add(`{"schemaVersion":2,"config":null}`, "application/json")
	f.Fuzz(func(t *testing.T, body, ct string) {
		m, err := parseManifest([]byte(body), ct)
		if err != nil {
			if err.Status != 400 {
				t.Fatalf("parseManifest: status %d", err.Status)
			}
			return
		}
		if !knownType(m.mediaType) {
			t.Fatalf("parseManifest accepted type %q", m.mediaType)
		}
		for _, d := range append(append(m.blobs, m.manifests...), m.subject) {
			if d != "" && d.Validate() != nil {
				t.Fatalf("parseManifest accepted digest %q", d)
			}
		}
	})
}
