package registry

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestManifestPutGet(t *testing.T) {
	dir := t.TempDir()
	reg, base := newTest(t, dir)
	body := imageManifest(t, base, "team/app", nil, []byte("layer one"), []byte("layer two"))
	d := digest.FromBytes(body)
	a := putManifest(t, base, "team/app", "v1", MediaOCIManifest, body)
	if a.status != http.StatusCreated || a.header.Get("Docker-Content-Digest") != string(d) || a.header.Get("Location") != "/v2/team/app/manifests/"+string(d) {
		t.Fatalf("PUT by tag: %d %v %s", a.status, a.header, a.body)
	}
	for _, ref := range []string{"v1", string(d)} {
		a = do(t, "GET", base+"/v2/team/app/manifests/"+ref, nil)
		if a.status != http.StatusOK || !bytes.Equal(a.body, body) || a.header.Get("Content-Type") != MediaOCIManifest || a.header.Get("Docker-Content-Digest") != string(d) {
			t.Errorf("GET %s: %d %v", ref, a.status, a.header)
		}
		a = do(t, "HEAD", base+"/v2/team/app/manifests/"+ref, nil)
		if a.status != http.StatusOK || len(a.body) != 0 || a.header.Get("Content-Length") != itoa(len(body)) {
			t.Errorf("HEAD %s: %d %v", ref, a.status, a.header)
		}
	}
	m, err := reg.GetManifest(t.Context(), "team/app", "v1")
	if err != nil || m.Digest != d || m.MediaType != MediaOCIManifest || !bytes.Equal(m.Body, body) {
		t.Errorf("GetManifest = %+v, %v", m, err)
	}
	if _, err := reg.GetManifest(t.Context(), "team/app", "v1?x"); err == nil || err.(*Error).Status != http.StatusBadRequest {
		t.Errorf("GetManifest(v1?x) = %v, want a 400", err)
	}
	if _, err := reg.GetManifest(t.Context(), "team/app", "v2"); err == nil || err.(*Error).Status != http.StatusNotFound {
		t.Errorf("GetManifest(v2) = %v, want a 404", err)
	}
	// Docker media type, no mediaType field needed by the Content-Type: echoed.
	dockerBody := bytes.Replace(body, []byte(MediaOCIManifest), []byte(MediaDockerImage), 1)
	if a = putManifest(t, base, "team/app", "docker", MediaDockerImage, dockerBody); a.status != http.StatusCreated {
		t.Fatalf("PUT docker: %d %s", a.status, a.body)
	}
	if a = do(t, "GET", base+"/v2/team/app/manifests/docker", nil); a.header.Get("Content-Type") != MediaDockerImage {
		t.Errorf("docker manifest served as %q", a.header.Get("Content-Type"))
	}
	// By digest, with ?tag= parameters.
	if a = putManifest(t, base, "team/app", string(d)+"?tag=t1&tag=t2", MediaOCIManifest, body); a.status != http.StatusCreated || a.header.Get("OCI-Tag") != "t1,t2" {
		t.Errorf("PUT by digest with tags: %d OCI-Tag %q", a.status, a.header.Get("OCI-Tag"))
	}
	if a = do(t, "GET", base+"/v2/team/app/manifests/t2", nil); a.status != http.StatusOK {
		t.Errorf("tag from ?tag=: %d", a.status)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestManifestRefused(t *testing.T) {
	dir := t.TempDir()
	_, base := newTest(t, dir, withMaxManifest(4096))
	good := imageManifest(t, base, "team/app", nil, []byte("layer"))
	missingLayer := strings.Replace(string(good), string(digest.FromString("layer")), string(digest.FromString("not pushed")), 1)
	huge := imageManifest(t, base, "team/app", map[string]any{"annotations": map[string]string{"a": strings.Repeat("x", 5000)}})
	index := `{"schemaVersion":2,"mediaType":"` + MediaOCIIndex + `","manifests":[{"mediaType":"` + MediaOCIManifest + `","digest":"` + string(digest.FromString("nope")) + `","size":2}]}`
	for _, tc := range []struct {
		name, ref, ct, body string
		status              int
		code                string
	}{
		{"not JSON", "v1", MediaOCIManifest, "{not json", 400, CodeManifestInvalid},
		{"trailing data", "v1", MediaOCIManifest, string(good) + "{}", 400, CodeManifestInvalid},
		{"schema 1", "v1", MediaOCIManifest, `{"schemaVersion":1}`, 400, CodeManifestInvalid},
		{"type mismatch", "v1", MediaDockerImage, string(good), 400, CodeManifestInvalid},
		{"unknown type", "v1", "application/vnd.example+json", `{"schemaVersion":2,"mediaType":"application/vnd.example+json"}`, 400, CodeManifestInvalid},
		{"no config", "v1", MediaOCIManifest, `{"schemaVersion":2,"layers":[]}`, 400, CodeManifestInvalid},
		{"bad layer digest", "v1", MediaOCIManifest, strings.Replace(string(good), "sha256:", "sha256:X", 2), 400, CodeManifestInvalid},
		{"layer not pushed", "v1", MediaOCIManifest, missingLayer, 400, CodeManifestBlobUnknown},
		{"index entry not pushed", "v1", MediaOCIIndex, index, 400, CodeManifestBlobUnknown},
		{"too large", "v1", MediaOCIManifest, string(huge), 413, CodeSizeInvalid},
		{"digest mismatch", string(digest.FromString("other")), MediaOCIManifest, string(good), 400, CodeDigestInvalid},
		{"bad tag param", string(digest.FromBytes(good)) + "?tag=bad%3Ftag", MediaOCIManifest, string(good), 400, CodeTagInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := putManifest(t, base, "team/app", tc.ref, tc.ct, []byte(tc.body))
			if a.status != tc.status || a.errorCode() != tc.code {
				t.Errorf("PUT: %d %s, want %d %s", a.status, a.body, tc.status, tc.code)
			}
			noPath(t, a.body, dir)
		})
	}
	// Too large sent chunked (no Content-Length): refused all the same.
	req, _ := http.NewRequest("PUT", base+"/v2/team/app/manifests/v1", io.MultiReader(bytes.NewReader(huge)))
	req.Header.Set("Content-Type", MediaOCIManifest)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge || req.ContentLength != 0 {
		t.Errorf("chunked manifest over the bound: %d (Content-Length %d)", resp.StatusCode, req.ContentLength)
	}
	if a := do(t, "GET", base+"/v2/team/app/tags/list", nil); a.status != http.StatusNotFound {
		t.Errorf("refused manifests made a repository: %d %s", a.status, a.body)
	}
}

func TestManifestDelete(t *testing.T) {
	_, base := newTest(t, "")
	body := imageManifest(t, base, "team/app", nil)
	d := digest.FromBytes(body)
	putManifest(t, base, "team/app", "v1", MediaOCIManifest, body)
	putManifest(t, base, "team/app", "v2", MediaOCIManifest, body)
	if a := do(t, "DELETE", base+"/v2/team/app/manifests/v1", nil); a.status != http.StatusAccepted {
		t.Fatalf("DELETE tag: %d", a.status)
	}
	if a := do(t, "GET", base+"/v2/team/app/manifests/v1", nil); a.status != http.StatusNotFound {
		t.Errorf("GET deleted tag: %d", a.status)
	}
	if a := do(t, "GET", base+"/v2/team/app/manifests/v2", nil); a.status != http.StatusOK {
		t.Errorf("the other tag went with it: %d", a.status)
	}
	if a := do(t, "DELETE", base+"/v2/team/app/manifests/"+string(d), nil); a.status != http.StatusAccepted {
		t.Fatalf("DELETE digest: %d", a.status)
	}
	for _, ref := range []string{"v2", string(d)} {
		if a := do(t, "HEAD", base+"/v2/team/app/manifests/"+ref, nil); a.status != http.StatusNotFound {
			t.Errorf("HEAD %s after deleting the manifest: %d", ref, a.status)
		}
	}
	if a := do(t, "DELETE", base+"/v2/team/app/manifests/"+string(d), nil); a.status != http.StatusNotFound || a.errorCode() != CodeManifestUnknown {
		t.Errorf("DELETE again: %d %s", a.status, a.body)
	}
}

func TestReferrers(t *testing.T) {
	_, base := newTest(t, "")
	subject := imageManifest(t, base, "team/app", nil)
	sd := digest.FromBytes(subject)
	putManifest(t, base, "team/app", "v1", MediaOCIManifest, subject)
	subj := map[string]any{"mediaType": MediaOCIManifest, "digest": sd, "size": len(subject)}
	sig := imageManifest(t, base, "team/app", map[string]any{"artifactType": "application/vnd.example.sig", "subject": subj, "annotations": map[string]string{"k": "v"}})
	sbom := imageManifest(t, base, "team/app", map[string]any{"subject": subj})
	for _, b := range [][]byte{sig, sbom} {
		a := putManifest(t, base, "team/app", string(digest.FromBytes(b)), MediaOCIManifest, b)
		if a.status != http.StatusCreated || a.header.Get("OCI-Subject") != string(sd) {
			t.Fatalf("PUT referrer: %d OCI-Subject %q", a.status, a.header.Get("OCI-Subject"))
		}
	}
	list := func(query string) (index struct {
		MediaType string       `json:"mediaType"`
		Manifests []descriptor `json:"manifests"`
	}, filtered string) {
		a := do(t, "GET", base+"/v2/team/app/referrers/"+string(sd)+query, nil)
		if a.status != http.StatusOK || a.header.Get("Content-Type") != MediaOCIIndex {
			t.Fatalf("referrers%s: %d %v", query, a.status, a.header)
		}
		json.Unmarshal(a.body, &index)
		return index, a.header.Get("OCI-Filters-Applied")
	}
	all, f := list("")
	if len(all.Manifests) != 2 || f != "" || all.MediaType != MediaOCIIndex {
		t.Fatalf("referrers = %+v (filter %q)", all, f)
	}
	for _, m := range all.Manifests {
		switch m.Digest {
		case string(digest.FromBytes(sig)):
			if m.ArtifactType != "application/vnd.example.sig" || m.Annotations["k"] != "v" || m.Size != int64(len(sig)) {
				t.Errorf("signature entry %+v", m)
			}
		case string(digest.FromBytes(sbom)):
			if m.ArtifactType != "application/vnd.oci.image.config.v1+json" {
				t.Errorf("an image's artifactType is its config's media type: %+v", m)
			}
		default:
			t.Errorf("unexpected entry %+v", m)
		}
	}
	sigs, f := list("?artifactType=application/vnd.example.sig")
	if len(sigs.Manifests) != 1 || f != "artifactType" {
		t.Errorf("filtered referrers = %+v (filter %q)", sigs, f)
	}
	do(t, "DELETE", base+"/v2/team/app/manifests/"+string(digest.FromBytes(sig)), nil)
	if left, _ := list(""); len(left.Manifests) != 1 {
		t.Errorf("after deleting the signature: %+v", left)
	}
	if none, _ := list(""); none.Manifests == nil {
		t.Error("manifests must be a list, never null")
	}
	if a := do(t, "GET", base+"/v2/team/app/referrers/"+string(digest.FromString("no subject")), nil); a.status != http.StatusOK || !strings.Contains(string(a.body), `"manifests":[]`) {
		t.Errorf("referrers of an unknown subject: %d %s", a.status, a.body)
	}
}

func TestTagsAndCatalogPages(t *testing.T) {
	_, base := newTest(t, "")
	body := imageManifest(t, base, "team/app", nil)
	for _, tag := range []string{"c", "a", "b", "e", "d"} {
		putManifest(t, base, "team/app", tag, MediaOCIManifest, body)
	}
	for _, repo := range []string{"zeta", "alpha/one", "alpha"} {
		b := imageManifest(t, base, repo, nil)
		putManifest(t, base, repo, "v1", MediaOCIManifest, b)
	}
	pushBlob(t, base, "blobsonly", []byte("x")) // no manifest: no repository in the catalog
	type page struct {
		Tags         []string `json:"tags"`
		Repositories []string `json:"repositories"`
	}
	get := func(path string) (page, string) {
		a := do(t, "GET", base+path, nil)
		if a.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, a.status, a.body)
		}
		var p page
		json.Unmarshal(a.body, &p)
		return p, a.header.Get("Link")
	}
	p, link := get("/v2/team/app/tags/list")
	if strings.Join(p.Tags, ",") != "a,b,c,d,e" || link != "" {
		t.Errorf("tags = %v, Link %q", p.Tags, link)
	}
	p, link = get("/v2/team/app/tags/list?n=2")
	if strings.Join(p.Tags, ",") != "a,b" || link != `</v2/team/app/tags/list?last=b&n=2>; rel="next"` {
		t.Errorf("first page = %v, Link %q", p.Tags, link)
	}
	p, link = get("/v2/team/app/tags/list?n=2&last=d")
	if strings.Join(p.Tags, ",") != "e" || link != "" {
		t.Errorf("last page = %v, Link %q", p.Tags, link)
	}
	p, _ = get("/v2/team/app/tags/list?last=bb")
	if strings.Join(p.Tags, ",") != "c,d,e" {
		t.Errorf("tags after bb = %v", p.Tags)
	}
	if p, _ = get("/v2/team/app/tags/list?n=0"); p.Tags == nil || len(p.Tags) != 0 {
		t.Errorf("n=0 = %#v, want an empty list", p.Tags)
	}
	if a := do(t, "GET", base+"/v2/team/app/tags/list?n=-1", nil); a.status != http.StatusBadRequest {
		t.Errorf("n=-1: %d", a.status)
	}
	if a := do(t, "GET", base+"/v2/nosuch/tags/list", nil); a.status != http.StatusNotFound || a.errorCode() != CodeNameUnknown {
		t.Errorf("tags of an unknown repository: %d %s", a.status, a.body)
	}
	p, _ = get("/v2/_catalog")
	if strings.Join(p.Repositories, ",") != "alpha,alpha/one,team/app,zeta" {
		t.Errorf("catalog = %v", p.Repositories)
	}
	p, link = get("/v2/_catalog?n=3")
	if strings.Join(p.Repositories, ",") != "alpha,alpha/one,team/app" || link != `</v2/_catalog?last=team%2Fapp&n=3>; rel="next"` {
		t.Errorf("catalog page = %v, Link %q", p.Repositories, link)
	}
	p, _ = get("/v2/_catalog?last=team%2Fapp")
	if strings.Join(p.Repositories, ",") != "zeta" {
		t.Errorf("catalog after team/app = %v", p.Repositories)
	}
}
