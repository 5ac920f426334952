package serve

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/profile"
)

// httpError is an error that writes its own answer.
type httpError interface {
	error
	write(w http.ResponseWriter, r *http.Request)
}

func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if he, ok := err.(httpError); ok {
		he.write(w, r)
		return
	}
	asRegError(err).write(w, r)
}

// serveManifest answers GET/HEAD of a manifest: by digest from the
// tailored-index store or passed through; by tag tailored for p.
func (s *Server) serveManifest(w http.ResponseWriter, r *http.Request, rt *route, p *profile.Profile) {
	if d, err := digest.Parse(rt.ref); err == nil {
		m, err := s.store.get(d)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if m != nil {
			writeManifest(w, r, m)
			return
		}
		rt.be.forward(w, r, rt.repo, rt.tail)
		return
	} else if strings.Contains(rt.ref, ":") {
		newError(http.StatusBadRequest, codeDigestInvalid, "bad digest", rt.ref).write(w, r)
		return
	}
	if p == nil {
		newError(http.StatusBadRequest, codeDenied, "no profile for this client: log in with one, use /v2/_p/<profile>/, or start the server with --profile", nil).write(w, r)
		return
	}
	t, err := s.tailorTag(r.Context(), rt, p)
	if err != nil {
		s.o.logger.Warn("manifest by tag failed", "backend", rt.be.name(), "repo", rt.repo, "tag", rt.ref, "profile", p.String(), "err", redactURL(err.Error()))
		writeError(w, r, err)
		return
	}
	if t.passthrough || acceptsIndex(r) {
		writeManifest(w, r, t.manifest)
		return
	}
	m, err := rt.be.getManifest(r.Context(), rt.repo, t.selected.Digest.String())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeManifest(w, r, m)
}

// tailorTag fetches a tag and tailors it for p, once for identical
// requests in flight, storing a generated index before it is served.
func (s *Server) tailorTag(ctx context.Context, rt *route, p *profile.Profile) (*tailored, error) {
	key := fmt.Sprintf("%s\x00%s\x00%s\x00%p", rt.be.name(), rt.repo, rt.ref, p)
	v, err, _ := s.flight.Do(key, func() (any, error) {
		m, err := rt.be.getManifest(context.WithoutCancel(ctx), rt.repo, rt.ref)
		if err != nil {
			return nil, err
		}
		t, err := tailor(m, p)
		if err != nil {
			return nil, err
		}
		if !t.passthrough {
			if err := s.store.put(t.manifest); err != nil {
				return nil, err
			}
			s.m.selections.WithLabelValues(t.target).Inc()
			s.o.logger.Debug("tailored", "repo", rt.repo, "tag", rt.ref, "profile", p.String(),
				"target", t.target, "selected", t.selected.Digest.String(), "digest", t.manifest.digest.String())
		}
		return t, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*tailored), nil
}

func writeManifest(w http.ResponseWriter, r *http.Request, m *manifest) {
	h := w.Header()
	h.Set("Content-Type", m.mediaType)
	h.Set("Content-Length", strconv.Itoa(len(m.body)))
	h.Set("Docker-Content-Digest", m.digest.String())
	h.Set("Etag", `"`+m.digest.String()+`"`)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(m.body)
	}
}

// acceptsIndex reports whether the client takes an index: it says so, or
// sends no Accept header at all.
func acceptsIndex(r *http.Request) bool {
	vals := r.Header.Values("Accept")
	if len(vals) == 0 {
		return true
	}
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			if mt == mediaOCIIndex || mt == mediaDockerList || mt == "*/*" {
				return true
			}
		}
	}
	return false
}
