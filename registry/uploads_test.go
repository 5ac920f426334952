package registry

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// startSession POSTs an upload and returns its Location (absolute).
func startSession(t *testing.T, base, repo string) string {
	t.Helper()
	a := do(t, "POST", base+"/v2/"+repo+"/blobs/uploads/", nil)
	if a.status != http.StatusAccepted || a.header.Get("Location") == "" || a.header.Get("Range") != "0-0" {
		t.Fatalf("POST upload: %d Location %q Range %q", a.status, a.header.Get("Location"), a.header.Get("Range"))
	}
	return base + a.header.Get("Location")
}

// blobTemps lists the files of uploads in progress (the blob store's tmp).
func blobTemps(t *testing.T, dir string) []string {
	t.Helper()
	des, _ := os.ReadDir(filepath.Join(dir, "blobs", "tmp"))
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}

func TestChunkedUpload(t *testing.T) {
	dir := t.TempDir()
	_, base := newTest(t, dir)
	data := bytes.Repeat([]byte("0123456789"), 100)
	d := digest.FromBytes(data)
	loc := startSession(t, base, "team/app")

	a := do(t, "PATCH", loc, data[:400], "Content-Range", "0-399", "Content-Type", "application/octet-stream")
	if a.status != http.StatusAccepted || a.header.Get("Range") != "0-399" {
		t.Fatalf("PATCH 0-399: %d Range %q %s", a.status, a.header.Get("Range"), a.body)
	}
	loc = base + a.header.Get("Location")
	// Out of order: 416 with where the upload is; the session survives.
	a = do(t, "PATCH", loc, data[500:600], "Content-Range", "500-599")
	if a.status != http.StatusRequestedRangeNotSatisfiable || a.header.Get("Range") != "0-399" || a.errorCode() != CodeBlobUploadInvalid {
		t.Fatalf("PATCH out of order: %d Range %q %s", a.status, a.header.Get("Range"), a.body)
	}
	a = do(t, "PATCH", loc, data[0:100], "Content-Range", "0-99")
	if a.status != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("PATCH again from 0: %d", a.status)
	}
	// A Content-Length that is not the range's: 400.
	if a = do(t, "PATCH", loc, data[400:450], "Content-Range", "400-499"); a.status != http.StatusBadRequest {
		t.Errorf("PATCH with a short body: %d %s", a.status, a.body)
	}
	if a = do(t, "PATCH", loc, data[400:500], "Content-Range", "4x0-499"); a.status != http.StatusBadRequest {
		t.Errorf("PATCH with a bad Content-Range: %d", a.status)
	}
	a = do(t, "GET", loc, nil)
	if a.status != http.StatusNoContent || a.header.Get("Range") != "0-399" {
		t.Fatalf("GET status: %d Range %q", a.status, a.header.Get("Range"))
	}
	// A streamed chunk (no Content-Range), then the last chunk with the PUT.
	a = do(t, "PATCH", loc, data[400:900])
	if a.status != http.StatusAccepted || a.header.Get("Range") != "0-899" {
		t.Fatalf("streamed PATCH: %d Range %q", a.status, a.header.Get("Range"))
	}
	a = do(t, "PUT", loc+"?digest="+string(d), data[900:], "Content-Range", "900-999")
	if a.status != http.StatusCreated || a.header.Get("Docker-Content-Digest") != string(d) || a.header.Get("Location") != "/v2/team/app/blobs/"+string(d) {
		t.Fatalf("PUT: %d %v %s", a.status, a.header, a.body)
	}
	if a = do(t, "GET", base+"/v2/team/app/blobs/"+string(d), nil); a.status != http.StatusOK || !bytes.Equal(a.body, data) {
		t.Errorf("GET blob: %d, %d bytes", a.status, len(a.body))
	}
	if a = do(t, "GET", loc, nil); a.status != http.StatusNotFound || a.errorCode() != CodeBlobUploadUnknown {
		t.Errorf("GET of a finished upload: %d %s", a.status, a.body)
	}
	if left := blobTemps(t, dir); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
}

// TestFailedUploadsLeaveNothing: a wrong digest, a cancel, a blob over
// the bound: no file stays (issue 8: a failed push's _uploads kept the
// disk full).
func TestFailedUploadsLeaveNothing(t *testing.T) {
	dir := t.TempDir()
	_, base := newTest(t, dir, WithMaxBlobSize(1000))
	data := []byte(strings.Repeat("x", 600))

	loc := startSession(t, base, "team/app")
	do(t, "PATCH", loc, data)
	a := do(t, "PUT", loc+"?digest="+string(digest.FromString("other")), nil)
	if a.status != http.StatusBadRequest || a.errorCode() != CodeDigestInvalid {
		t.Errorf("PUT with a wrong digest: %d %s", a.status, a.body)
	}
	if a = do(t, "PUT", loc+"?digest=sha256:nothex", nil); a.status != http.StatusNotFound {
		t.Errorf("the session outlived a failed PUT: %d", a.status)
	}

	loc = startSession(t, base, "team/app")
	do(t, "PATCH", loc, data)
	if a = do(t, "DELETE", loc, nil); a.status != http.StatusNoContent {
		t.Errorf("DELETE: %d", a.status)
	}
	if a = do(t, "GET", loc, nil); a.status != http.StatusNotFound {
		t.Errorf("GET after DELETE: %d", a.status)
	}

	loc = startSession(t, base, "team/app")
	do(t, "PATCH", loc, data)
	if a = do(t, "PATCH", loc, data); a.status != http.StatusRequestEntityTooLarge || a.errorCode() != CodeSizeInvalid {
		t.Errorf("PATCH past the bound: %d %s", a.status, a.body)
	}
	big := []byte(strings.Repeat("y", 1001))
	if a = do(t, "POST", base+"/v2/team/app/blobs/uploads/?digest="+string(digest.FromBytes(big)), big); a.status != http.StatusRequestEntityTooLarge {
		t.Errorf("monolithic past the bound: %d", a.status)
	}
	if a = do(t, "POST", base+"/v2/team/app/blobs/uploads/?digest="+string(digest.FromString("z")), data); a.status != http.StatusBadRequest {
		t.Errorf("monolithic with a wrong digest: %d", a.status)
	}
	if left := blobTemps(t, dir); len(left) != 0 {
		t.Errorf("files left after failed uploads: %v", left)
	}
	if a = do(t, "GET", base+"/v2/team/app/blobs/"+string(digest.FromBytes(data)), nil); a.status != http.StatusNotFound {
		t.Errorf("a failed upload's blob is served: %d", a.status)
	}
}

// TestUploadSessionBounds: sessions are bounded in number (429) and age
// (the janitor drops them with their files).
func TestUploadSessionBounds(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	reg, base := newTest(t, dir, WithUploadLimits(2, time.Hour, 3*time.Hour), withClock(clk.now))
	a := startSession(t, base, "a")
	b := startSession(t, base, "b")
	if r := do(t, "POST", base+"/v2/c/blobs/uploads/", nil); r.status != http.StatusTooManyRequests || r.errorCode() != CodeTooManyRequests {
		t.Errorf("third session: %d %s", r.status, r.body)
	}
	do(t, "PATCH", a, []byte("some bytes"))
	clk.t = clk.t.Add(50 * time.Minute)
	do(t, "PATCH", b, []byte("more")) // b stays busy
	clk.t = clk.t.Add(20 * time.Minute)
	if n := reg.expireUploads(); n != 1 {
		t.Errorf("expired %d sessions, want 1 (a: idle 70 min)", n)
	}
	if r := do(t, "GET", a, nil); r.status != http.StatusNotFound {
		t.Errorf("idle session a still there: %d", r.status)
	}
	for range 3 {
		clk.t = clk.t.Add(55 * time.Minute)
		do(t, "PATCH", b, []byte("x"))
	}
	if n := reg.expireUploads(); n != 1 {
		t.Errorf("expired %d sessions, want 1 (b: older than 3 h)", n)
	}
	if left := blobTemps(t, dir); len(left) != 0 {
		t.Errorf("files of expired sessions left: %v", left)
	}
	startSession(t, base, "c")
}

func TestSessionBelongsToItsRepository(t *testing.T) {
	_, base := newTest(t, "")
	loc := startSession(t, base, "team/app")
	other := strings.Replace(loc, "/team/app/", "/team/other/", 1)
	if a := do(t, "PATCH", other, []byte("x")); a.status != http.StatusNotFound {
		t.Errorf("PATCH through another repository: %d", a.status)
	}
}

func TestMount(t *testing.T) {
	_, base := newTest(t, "")
	d := pushBlob(t, base, "src", []byte("shared layer"))
	a := do(t, "POST", base+"/v2/dst/blobs/uploads/?mount="+string(d)+"&from=src", nil)
	if a.status != http.StatusCreated || a.header.Get("Location") != "/v2/dst/blobs/"+string(d) {
		t.Fatalf("mount from src: %d %v", a.status, a.header)
	}
	// Without from nothing is mounted (as distribution): a session.
	a = do(t, "POST", base+"/v2/anon/blobs/uploads/?mount="+string(d), nil)
	if a.status != http.StatusAccepted || a.header.Get("Location") == "" {
		t.Errorf("mount without from: %d, want 202 and a session", a.status)
	}
	if a = do(t, "HEAD", base+"/v2/anon/blobs/"+string(d), nil); a.status != http.StatusNotFound {
		t.Errorf("blob in anon after a mount without from: %d, want 404", a.status)
	}
	missing := digest.FromString("missing")
	a = do(t, "POST", base+"/v2/dst/blobs/uploads/?mount="+string(missing)+"&from=src", nil)
	if a.status != http.StatusAccepted || a.header.Get("Location") == "" {
		t.Errorf("mount of a missing blob: %d, want 202 and a session", a.status)
	}
	a = do(t, "POST", base+"/v2/dst2/blobs/uploads/?mount="+string(d)+"&from=nosuch", nil)
	if a.status != http.StatusAccepted {
		t.Errorf("mount from a repository without the blob: %d, want 202", a.status)
	}
	if a = do(t, "HEAD", base+"/v2/dst2/blobs/"+string(d), nil); a.status != http.StatusNotFound {
		t.Errorf("blob in dst2 after a refused mount: %d", a.status)
	}
}

func TestBlobRangeAndDelete(t *testing.T) {
	_, base := newTest(t, "")
	data := []byte("0123456789abcdefghij")
	d := pushBlob(t, base, "team/app", data)
	u := base + "/v2/team/app/blobs/" + string(d)
	for rng, want := range map[string]string{"bytes=5-9": "56789", "bytes=15-": "fghij", "bytes=-3": "hij", "bytes=18-100": "ij"} {
		a := do(t, "GET", u, nil, "Range", rng)
		if a.status != http.StatusPartialContent || string(a.body) != want {
			t.Errorf("Range %s: %d %q, want 206 %q", rng, a.status, a.body, want)
		}
	}
	if a := do(t, "GET", u, nil, "Range", "bytes=50-60"); a.status != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("Range past the end: %d", a.status)
	}
	a := do(t, "HEAD", u, nil)
	if a.status != http.StatusOK || a.header.Get("Content-Length") != fmt.Sprint(len(data)) || a.header.Get("Docker-Content-Digest") != string(d) {
		t.Errorf("HEAD: %d %v", a.status, a.header)
	}
	if a := do(t, "GET", base+"/v2/other/blobs/"+string(d), nil); a.status != http.StatusNotFound || a.errorCode() != CodeBlobUnknown {
		t.Errorf("GET from a repository without it: %d %s", a.status, a.body)
	}
	if a := do(t, "DELETE", u, nil); a.status != http.StatusAccepted {
		t.Errorf("DELETE: %d", a.status)
	}
	if a := do(t, "HEAD", u, nil); a.status != http.StatusNotFound {
		t.Errorf("HEAD after DELETE: %d", a.status)
	}
	if a := do(t, "DELETE", u, nil); a.status != http.StatusNotFound {
		t.Errorf("DELETE again: %d", a.status)
	}
}
