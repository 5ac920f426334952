package registry

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/content"
)

// uploads holds the upload sessions. They live in memory (their bytes in
// the blob store's temporary files): a restart drops them, as the
// distribution spec allows, and the blob store removes their files.
type uploads struct {
	mu       sync.Mutex
	sessions map[string]*session
	held     holders // sessions and reservations per client and repository
}

// session is one blob upload in progress.
type session struct {
	mu      sync.Mutex // one request at a time
	id      string
	name    string
	client  string // clientKey of the request that started it
	w       *content.Writer
	started time.Time
	touched time.Time
	gone    bool // finished, cancelled or expired
}

// startUpload answers POST /v2/<name>/blobs/uploads/: a mount, a
// monolithic upload (?digest=) or the start of a session.
func (reg *Registry) startUpload(w http.ResponseWriter, r *http.Request, rt route) *Error {
	if r.Method != http.MethodPost {
		return errMethod(r)
	}
	q := r.URL.Query()
	if mount := q.Get("mount"); mount != "" {
		if d, err := content.ParseDigest(mount); err == nil {
			if done, rerr := reg.mount(w, r, rt.name, d, q.Get("from")); done || rerr != nil {
				return rerr
			}
		}
		// Not mountable: a session, as the spec says.
	}
	if dg, ok := q["digest"]; ok {
		d, rerr := parseDigest(dg[0])
		if rerr != nil {
			return rerr
		}
		return reg.putMonolithic(w, r, rt.name, d)
	}
	s, rerr := reg.newSession(r, rt.name)
	if rerr != nil {
		return rerr
	}
	uploadStatus(w, s, http.StatusAccepted)
	return nil
}

// mount links blob d into name when it is in repository from; done is
// false when it is not. Without from nothing is mounted, as distribution
// does: a blob of a repository the client may not read must not become
// one of its own by guessing the digest.
func (reg *Registry) mount(w http.ResponseWriter, r *http.Request, name string, d digest.Digest, from string) (done bool, err *Error) {
	if from == "" || !validName(from) || !reg.hasLayer(from, d) {
		return false, nil
	}
	defer reg.pin(d)()
	if _, err := reg.blobs.Stat(r.Context(), d); err != nil {
		return false, nil
	}
	if err := reg.linkBlob(name, d); err != nil {
		return false, reg.storageError(r, err)
	}
	blobCreated(w, name, d)
	return true, nil
}

// putMonolithic stores the request body as blob d.
func (reg *Registry) putMonolithic(w http.ResponseWriter, r *http.Request, name string, d digest.Digest) *Error {
	if r.ContentLength > reg.o.maxBlobSize {
		return errBlobTooLarge(reg.o.maxBlobSize)
	}
	body := &bodyReader{r: r.Body, left: reg.o.maxBlobSize}
	defer reg.pin(d)()
	if _, err := reg.blobs.Put(r.Context(), d, r.ContentLength, body); err != nil {
		return reg.uploadError(r, err, body)
	}
	if err := reg.linkBlob(name, d); err != nil {
		return reg.storageError(r, err)
	}
	blobCreated(w, name, d)
	return nil
}

// newSession starts an upload session of name for r's client: its slot
// is taken (counted in all, per client and per repository) under one
// lock before the session is made, so concurrent starts cannot pass the
// bounds together.
func (reg *Registry) newSession(r *http.Request, name string) (*session, *Error) {
	client := clientKey(r)
	reg.up.mu.Lock()
	rerr := reg.up.held.take(client, name, reg.o.maxUploads, reg.o.shares)
	reg.up.mu.Unlock()
	if rerr != nil {
		return nil, rerr
	}
	wr, err := reg.blobs.NewWriter(r.Context())
	if err != nil {
		reg.up.mu.Lock()
		reg.up.held.give(client, name)
		reg.up.mu.Unlock()
		return nil, reg.storageError(r, err)
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	now := reg.o.now()
	s := &session{id: hex.EncodeToString(b[:]), name: name, client: client, w: wr, started: now, touched: now}
	reg.up.mu.Lock()
	reg.up.sessions[s.id] = s
	reg.up.mu.Unlock()
	return s, nil
}

// serveUpload answers GET (status), PATCH (a chunk), PUT (the end) and
// DELETE (cancel) of an upload session.
func (reg *Registry) serveUpload(w http.ResponseWriter, r *http.Request, rt route) *Error {
	reg.up.mu.Lock()
	s := reg.up.sessions[rt.arg]
	reg.up.mu.Unlock()
	if s == nil || s.name != rt.name {
		return newError(http.StatusNotFound, CodeBlobUploadUnknown, "blob upload unknown to registry", quoted(rt.arg))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return newError(http.StatusNotFound, CodeBlobUploadUnknown, "blob upload unknown to registry", quoted(rt.arg))
	}
	s.touched = reg.o.now()
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		uploadStatus(w, s, http.StatusNoContent)
		return nil
	case http.MethodPatch:
		if err := reg.appendChunk(w, r, s); err != nil {
			return err
		}
		uploadStatus(w, s, http.StatusAccepted)
		return nil
	case http.MethodPut:
		return reg.finishUpload(w, r, s)
	case http.MethodDelete:
		reg.dropSession(s)
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return errMethod(r)
}

// appendChunk writes the request body to the session: the bytes the
// Content-Range names, which must start where the upload is, or the
// whole body without one.
func (reg *Registry) appendChunk(w http.ResponseWriter, r *http.Request, s *session) *Error {
	n := int64(-1)
	if cr := r.Header.Get("Content-Range"); cr != "" {
		start, end, ok := parseContentRange(cr)
		if !ok {
			return newError(http.StatusBadRequest, CodeBlobUploadInvalid, "invalid Content-Range: <start>-<end>", quoted(cr))
		}
		if start != s.w.Size() {
			w.Header().Set("Location", uploadLocation(s))
			w.Header().Set("Range", uploadRange(s))
			return newError(http.StatusRequestedRangeNotSatisfiable, CodeBlobUploadInvalid, "chunk out of order", map[string]int64{"start": start, "uploaded": s.w.Size()})
		}
		n = end - start + 1
		if r.ContentLength >= 0 && r.ContentLength != n {
			return newError(http.StatusBadRequest, CodeBlobUploadInvalid, "Content-Length is not the length of the Content-Range", map[string]int64{"contentLength": r.ContentLength, "range": n})
		}
	}
	left := reg.o.maxBlobSize - s.w.Size()
	if n > left || r.ContentLength > left {
		reg.dropSession(s)
		return errBlobTooLarge(reg.o.maxBlobSize)
	}
	body := &bodyReader{r: r.Body, left: left}
	var src io.Reader = body
	if n >= 0 {
		src = io.LimitReader(body, n)
	}
	written, err := io.Copy(s.w, src)
	if err == nil && n >= 0 && written != n {
		return newError(http.StatusBadRequest, CodeBlobUploadInvalid, "the chunk is shorter than its Content-Range", map[string]int64{"range": n, "received": written})
	}
	if err != nil {
		if body.err != nil || body.over {
			if body.over {
				reg.dropSession(s)
			}
			return reg.uploadError(r, err, body)
		}
		// The store failed (a full disk): drop the session to give the
		// space back.
		reg.dropSession(s)
		return reg.storageError(r, err)
	}
	return nil
}

// finishUpload takes the last chunk, checks the digest and stores the blob.
func (reg *Registry) finishUpload(w http.ResponseWriter, r *http.Request, s *session) *Error {
	dg := r.URL.Query().Get("digest")
	d, rerr := parseDigest(dg)
	if rerr != nil {
		return rerr
	}
	if r.ContentLength != 0 || r.Header.Get("Content-Range") != "" {
		if err := reg.appendChunk(w, r, s); err != nil {
			return err
		}
	}
	defer reg.pin(d)()
	if _, err := s.w.Commit(r.Context(), d, -1); err != nil {
		reg.dropSession(s)
		return reg.uploadError(r, err, nil)
	}
	reg.forget(s)
	if err := reg.linkBlob(s.name, d); err != nil {
		return reg.storageError(r, err)
	}
	blobCreated(w, s.name, d)
	return nil
}

// dropSession cancels s and removes its bytes. The caller holds s.mu.
func (reg *Registry) dropSession(s *session) {
	s.w.Close()
	reg.forget(s)
}

func (reg *Registry) forget(s *session) {
	s.gone = true
	reg.up.mu.Lock()
	if _, ok := reg.up.sessions[s.id]; ok {
		delete(reg.up.sessions, s.id)
		reg.up.held.give(s.client, s.name)
	}
	reg.up.mu.Unlock()
}

func uploadLocation(s *session) string { return "/v2/" + s.name + "/blobs/uploads/" + s.id }

// uploadRange is the Range header of an upload: "0-<last byte>", "0-0"
// when empty (as distribution writes it).
func uploadRange(s *session) string {
	return "0-" + strconv.FormatInt(max(s.w.Size()-1, 0), 10)
}

func uploadStatus(w http.ResponseWriter, s *session, status int) {
	h := w.Header()
	h.Set("Location", uploadLocation(s))
	h.Set("Range", uploadRange(s))
	h.Set("Docker-Upload-UUID", s.id)
	h.Set("Content-Length", "0")
	w.WriteHeader(status)
}

func errBlobTooLarge(max int64) *Error {
	return newError(http.StatusRequestEntityTooLarge, CodeSizeInvalid, "blob too large", "the limit is "+strconv.FormatInt(max, 10)+" bytes")
}

// uploadError answers a failed blob write: the client's fault (a digest
// or size that does not match, a body cut short or too long) or the
// store's.
func (reg *Registry) uploadError(r *http.Request, err error, body *bodyReader) *Error {
	switch {
	case body != nil && body.over:
		return errBlobTooLarge(reg.o.maxBlobSize)
	case body != nil && body.err != nil:
		return newError(http.StatusBadRequest, CodeBlobUploadInvalid, "reading the request body failed", body.err.Error())
	case errors.Is(err, content.ErrDigestMismatch):
		return newError(http.StatusBadRequest, CodeDigestInvalid, "the blob's bytes do not have the digest given", nil)
	case errors.Is(err, content.ErrSizeMismatch):
		return newError(http.StatusBadRequest, CodeSizeInvalid, "the blob is not the size given", nil)
	case errors.Is(err, content.ErrInvalidDigest):
		return newError(http.StatusBadRequest, CodeDigestInvalid, "invalid digest", nil)
	}
	return reg.storageError(r, err)
}

// bodyReader reads a request body, noting the client's read error and
// failing past left bytes.
type bodyReader struct {
	r    io.Reader
	left int64
	err  error
	over bool
}

var errOver = errors.New("body over the size bound")

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body at the bound from one over it.
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			b.over = true
			return 0, errOver
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}
