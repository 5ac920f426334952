package registry

import (
	"errors"
	"net/http"
	"os"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/content"
)

// serveBlob answers GET, HEAD (with Range) and DELETE of a blob.
func (reg *Registry) serveBlob(w http.ResponseWriter, r *http.Request, rt route) *Error {
	d, rerr := parseDigest(rt.arg)
	if rerr != nil {
		return rerr
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if !reg.hasLayer(rt.name, d) {
			return errBlobUnknown(d)
		}
		b, err := reg.blobs.Open(r.Context(), d)
		if errors.Is(err, content.ErrNotFound) {
			return errBlobUnknown(d)
		}
		if err != nil {
			return reg.storageError(r, err)
		}
		defer b.Close()
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Docker-Content-Digest", string(d))
		h.Set("Etag", `"`+string(d)+`"`)
		h.Set("Cache-Control", "max-age=31536000")
		http.ServeContent(w, r, "", time.Time{}, b)
		return nil
	case http.MethodDelete:
		defer reg.lock(rt.name)()
		if !reg.hasLayer(rt.name, d) {
			return errBlobUnknown(d)
		}
		if err := removeFile(reg.layerLink(rt.name, d)); err != nil {
			return reg.storageError(r, err)
		}
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	return errMethod(r)
}

func errBlobUnknown(d digest.Digest) *Error {
	return newError(http.StatusNotFound, CodeBlobUnknown, "blob unknown to the repository", string(d))
}

// linkBlob makes blob d (stored) part of repository name. The link's
// modification time is when it was last made: the collector keeps the
// blob for the grace period after (a manifest to come will reference
// it).
func (reg *Registry) linkBlob(name string, d digest.Digest) error {
	defer reg.lock(name)()
	p := reg.layerLink(name, d)
	if !exists(p) {
		if err := reg.writeFile(p, nil); err != nil {
			return err
		}
	}
	now := reg.o.now()
	return os.Chtimes(p, now, now)
}

// blobCreated answers a finished upload or mount.
func blobCreated(w http.ResponseWriter, name string, d digest.Digest) {
	h := w.Header()
	h.Set("Location", "/v2/"+name+"/blobs/"+string(d))
	h.Set("Docker-Content-Digest", string(d))
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}
