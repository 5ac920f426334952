package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/content"
	"github.com/tailor-dev/tailor/distspec"
)

// Manifest media types the registry knows.
const (
	MediaOCIIndex    = distspec.MediaOCIIndex
	MediaOCIManifest = distspec.MediaOCIManifest
	MediaDockerList  = distspec.MediaDockerList
	MediaDockerImage = distspec.MediaDockerImage
)

// Manifest is a stored manifest.
type Manifest struct {
	MediaType string
	Digest    digest.Digest
	Body      []byte
}

// GetManifest reads the manifest ref (a tag or a digest) of repository
// name: the Go call behind GET /v2/<name>/manifests/<ref>. Its errors
// are *Error for what a client asked wrong or that is not there.
func (reg *Registry) GetManifest(ctx context.Context, name, ref string) (*Manifest, error) {
	if !validName(name) {
		return nil, newError(http.StatusBadRequest, CodeNameInvalid, "invalid repository name", quoted(name))
	}
	rf, rerr := parseReference(ref)
	if rerr != nil {
		return nil, rerr
	}
	d, mt, rerr := reg.resolve(name, rf)
	if rerr != nil {
		return nil, rerr
	}
	body, err := reg.readManifest(ctx, d)
	var re *Error
	if errors.As(err, &re) {
		return nil, re
	}
	if err != nil {
		reg.o.logger.ErrorContext(ctx, "registry storage error", "op", "read manifest", "repo", name, "digest", d, "err", err)
		if errors.Is(err, content.ErrNoSpace) {
			return nil, errNoSpace()
		}
		return nil, newError(http.StatusInternalServerError, CodeUnknown, "registry storage error", nil)
	}
	return &Manifest{MediaType: mt, Digest: d, Body: body}, nil
}

// resolve finds the digest and media type of a manifest of name.
func (reg *Registry) resolve(name string, rf reference) (digest.Digest, string, *Error) {
	d := rf.digest
	if rf.tag != "" {
		td, ok, err := reg.readTag(name, rf.tag)
		if err != nil {
			reg.o.logger.Error("registry: reading a tag", "repo", name, "tag", rf.tag, "err", err)
		}
		if !ok {
			return "", "", newError(http.StatusNotFound, CodeManifestUnknown, "manifest unknown", map[string]string{"name": name, "tag": rf.tag})
		}
		d = td
	}
	mt, ok, err := reg.manifestType(name, d)
	if err != nil {
		reg.o.logger.Error("registry: reading a manifest link", "repo", name, "digest", d, "err", err)
	}
	if !ok {
		return "", "", newError(http.StatusNotFound, CodeManifestUnknown, "manifest unknown", map[string]string{"name": name, "reference": rf.String()})
	}
	return d, mt, nil
}

// readManifest reads manifest d's bytes (bounded).
func (reg *Registry) readManifest(ctx context.Context, d digest.Digest) ([]byte, error) {
	b, err := reg.blobs.Open(ctx, d)
	if errors.Is(err, content.ErrNotFound) {
		return nil, newError(http.StatusNotFound, CodeManifestUnknown, "manifest unknown", string(d))
	}
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return io.ReadAll(io.LimitReader(b, 4*reg.o.maxManifest))
}

func (reg *Registry) serveManifest(w http.ResponseWriter, r *http.Request, rt route) *Error {
	rf, err := parseReference(rt.arg)
	if err != nil {
		return err
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		d, mt, err := reg.resolve(rt.name, rf)
		if err != nil {
			return err
		}
		b, oerr := reg.blobs.Open(r.Context(), d)
		if errors.Is(oerr, content.ErrNotFound) {
			return newError(http.StatusNotFound, CodeManifestUnknown, "manifest unknown", string(d))
		}
		if oerr != nil {
			return reg.storageError(r, oerr)
		}
		defer b.Close()
		h := w.Header()
		h.Set("Content-Type", mt)
		h.Set("Docker-Content-Digest", string(d))
		h.Set("Etag", `"`+string(d)+`"`)
		h.Set("Content-Length", strconv.FormatInt(b.Size(), 10))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = io.Copy(w, b)
		}
		return nil
	case http.MethodPut:
		return reg.putManifest(w, r, rt.name, rf)
	case http.MethodDelete:
		return reg.deleteManifest(w, r, rt.name, rf)
	}
	return errMethod(r)
}

// putManifest checks and stores a manifest, its tags and its referrer
// entry.
func (reg *Registry) putManifest(w http.ResponseWriter, r *http.Request, name string, rf reference) *Error {
	max := reg.o.maxManifest
	if r.ContentLength > max {
		return errManifestTooLarge(r.ContentLength, max)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return newError(http.StatusBadRequest, CodeManifestInvalid, "reading the manifest failed", err.Error())
	}
	if int64(len(body)) > max {
		return errManifestTooLarge(-1, max)
	}
	m, rerr := parseManifest(body, r.Header.Get("Content-Type"))
	if rerr != nil {
		return rerr
	}
	if rerr := reg.refuseAnswer(name, m); rerr != nil {
		return rerr
	}
	d := digest.Canonical.FromBytes(body)
	if rf.digest != "" {
		if got := rf.digest.Algorithm().FromBytes(body); got != rf.digest {
			return newError(http.StatusBadRequest, CodeDigestInvalid, "the manifest's digest is not the one in the URL", map[string]string{"url": string(rf.digest), "body": string(got)})
		}
		d = rf.digest
	}
	tags := r.URL.Query()["tag"]
	if rf.tag != "" {
		tags = append(tags, rf.tag)
	}
	for _, t := range tags {
		if !validTag(t) {
			return newError(http.StatusBadRequest, CodeTagInvalid, "invalid tag: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}", quoted(t))
		}
	}
	refs := append(append([]digest.Digest{d}, m.blobs...), m.manifests...)
	if m.subject != "" {
		refs = append(refs, m.subject)
	}
	defer reg.pin(refs...)()
	if rerr := reg.checkReferences(r.Context(), name, m); rerr != nil {
		return rerr
	}
	if _, err := reg.blobs.Put(r.Context(), d, int64(len(body)), bytes.NewReader(body)); err != nil {
		return reg.storageError(r, err)
	}
	if err := reg.linkManifest(name, d, m, int64(len(body)), tags); err != nil {
		return reg.storageError(r, err)
	}
	h := w.Header()
	h.Set("Location", "/v2/"+name+"/manifests/"+string(d))
	h.Set("Docker-Content-Digest", string(d))
	if m.subject != "" {
		h.Set("OCI-Subject", string(m.subject))
	}
	if len(r.URL.Query()["tag"]) > 0 {
		h.Set("OCI-Tag", strings.Join(r.URL.Query()["tag"], ","))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
	return nil
}

func errManifestTooLarge(n, max int64) *Error {
	detail := "the limit is " + strconv.FormatInt(max, 10) + " bytes"
	if n >= 0 {
		detail = strconv.FormatInt(n, 10) + " bytes, " + detail
	}
	return newError(http.StatusRequestEntityTooLarge, CodeSizeInvalid, "manifest too large", detail)
}

// linkManifest makes manifest d part of repository name, with its
// referrer entry and tags.
func (reg *Registry) linkManifest(name string, d digest.Digest, m *manifest, size int64, tags []string) error {
	defer reg.lock(name)()
	if err := reg.writeFile(reg.manifestLink(name, d), []byte(m.mediaType)); err != nil {
		return err
	}
	if m.subject != "" {
		desc, err := json.Marshal(m.referrer(d, size))
		if err != nil {
			return err
		}
		if err := reg.writeFile(reg.referrersDir(name, m.subject)+"/"+referrerFile(d), desc); err != nil {
			return err
		}
	}
	for _, t := range tags {
		if err := reg.writeFile(reg.tagPath(name, t), []byte(d)); err != nil {
			return err
		}
	}
	return nil
}

// checkReferences requires what a manifest points to to be in the
// repository, as distribution does: an image's config and layers
// (non-distributable layers excepted), an index's manifests. A subject
// need not exist. The caller pinned them (gc.go), so what is here now
// stays.
func (reg *Registry) checkReferences(ctx context.Context, name string, m *manifest) *Error {
	for _, d := range m.blobs {
		if !reg.hasLayer(name, d) {
			return newError(http.StatusBadRequest, CodeManifestBlobUnknown, "blob unknown to the repository", string(d))
		}
		if _, err := reg.blobs.Stat(ctx, d); err != nil {
			return newError(http.StatusBadRequest, CodeManifestBlobUnknown, "blob unknown to the repository", string(d))
		}
	}
	for _, d := range m.manifests {
		if _, ok, _ := reg.manifestType(name, d); !ok {
			return newError(http.StatusBadRequest, CodeManifestBlobUnknown, "manifest unknown to the repository", string(d))
		}
	}
	return nil
}

// deleteManifest removes a tag, or a manifest with the tags that point to
// it and its referrer entry.
func (reg *Registry) deleteManifest(w http.ResponseWriter, r *http.Request, name string, rf reference) *Error {
	defer reg.lock(name)()
	if rf.tag != "" {
		if _, ok, _ := reg.readTag(name, rf.tag); !ok {
			return newError(http.StatusNotFound, CodeManifestUnknown, "manifest unknown", map[string]string{"name": name, "tag": rf.tag})
		}
		if err := removeFile(reg.tagPath(name, rf.tag)); err != nil {
			return reg.storageError(r, err)
		}
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	d := rf.digest
	if _, ok, _ := reg.manifestType(name, d); !ok {
		return newError(http.StatusNotFound, CodeManifestUnknown, "manifest unknown", map[string]string{"name": name, "digest": string(d)})
	}
	if body, err := reg.readManifest(r.Context(), d); err == nil {
		if m, perr := parseManifest(body, ""); perr == nil && m.subject != "" {
			if err := removeFile(reg.referrersDir(name, m.subject) + "/" + referrerFile(d)); err != nil {
				return reg.storageError(r, err)
			}
		}
	}
	tags, err := listDir(reg.repoDir(name) + "/_tags")
	if err != nil {
		return reg.storageError(r, err)
	}
	for _, t := range tags {
		if td, ok, _ := reg.readTag(name, t); ok && td == d {
			if err := removeFile(reg.tagPath(name, t)); err != nil {
				return reg.storageError(r, err)
			}
		}
	}
	if err := removeFile(reg.manifestLink(name, d)); err != nil {
		return reg.storageError(r, err)
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}
