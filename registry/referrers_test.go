package registry

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

// TestReferrersPaged (D6): a subject with 40 referrers of 100 KB of
// annotations each is listed in pages of at most about 1 MiB, linked by
// Link headers, every referrer once; the artifactType filter and n carry
// over to the next page.
func TestReferrersPaged(t *testing.T) {
	_, base := newTest(t, "")
	subject := imageManifest(t, base, "team/app", nil)
	sd := digest.FromBytes(subject)
	putManifest(t, base, "team/app", "v1", MediaOCIManifest, subject)
	subj := map[string]any{"mediaType": MediaOCIManifest, "digest": sd, "size": len(subject)}
	want := map[string]bool{}
	for i := range 40 {
		kind := "application/vnd.example.sig"
		if i%2 == 1 {
			kind = "application/vnd.example.sbom"
		}
		m := imageManifest(t, base, "team/app", map[string]any{"artifactType": kind, "subject": subj,
			"annotations": map[string]string{"big": strings.Repeat("x", 100<<10) + strconv.Itoa(i)}})
		d := digest.FromBytes(m)
		if a := putManifest(t, base, "team/app", string(d), MediaOCIManifest, m); a.status != http.StatusCreated {
			t.Fatalf("PUT referrer %d: %d %s", i, a.status, a.body)
		}
		want[string(d)+" "+kind] = true
	}
	walk := func(query string) (map[string]bool, int) {
		seen := map[string]bool{}
		next, pages := "/v2/team/app/referrers/"+string(sd)+query, 0
		for next != "" {
			pages++
			a := do(t, "GET", base+next, nil)
			if a.status != http.StatusOK || len(a.body) > maxReferrersPage+4096 {
				t.Fatalf("page %d: %d, %d bytes", pages, a.status, len(a.body))
			}
			var idx struct{ Manifests []descriptor }
			if err := jsonUnmarshal(a.body, &idx); err != nil || len(idx.Manifests) == 0 && query == "" {
				t.Fatalf("page %d: %v %d entries", pages, err, len(idx.Manifests))
			}
			for _, d := range idx.Manifests {
				k := d.Digest + " " + d.ArtifactType
				if seen[k] {
					t.Errorf("%s listed twice", d.Digest)
				}
				seen[k] = true
			}
			next = ""
			if l := a.header.Get("Link"); l != "" {
				next = strings.TrimSuffix(strings.TrimPrefix(l, "<"), `>; rel="next"`)
			}
		}
		return seen, pages
	}
	seen, pages := walk("")
	if len(seen) != 40 || pages < 4 {
		t.Errorf("walked %d referrers in %d pages, want 40 in at least 4", len(seen), pages)
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("referrer %s not listed", k)
		}
	}
	sigs, _ := walk("?" + url.Values{"artifactType": {"application/vnd.example.sig"}, "n": {"3"}}.Encode())
	if len(sigs) != 20 {
		t.Errorf("walked %d signatures, want 20", len(sigs))
	}
	for k := range sigs {
		if !strings.HasSuffix(k, "sig") {
			t.Errorf("filtered walk listed %s", k)
		}
	}
}
