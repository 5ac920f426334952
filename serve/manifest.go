package serve

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/profile"
)

// httpError is an error that writes its own answer.
type httpError interface {
	error
	Write(w http.ResponseWriter, r *http.Request)
}

func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if he, ok := err.(httpError); ok {
		he.Write(w, r)
		return
	}
	asRegError(err).Write(w, r)
}

// varyTailored names what a manifest-by-tag answer depends on besides the
// URL: caches in front of tailor must not hand one client's answer to
// another.
const varyTailored = "Accept, Authorization, " + ProfileHeader

// answerKey names one tailored answer: the source index and the entry
// chosen.
type answerKey struct {
	source digest.Digest
	entry  int
}

// serveManifest answers GET/HEAD of a manifest: by digest from the
// tailored answers or the backend; by tag tailored for p (untouched for
// ProfileNone).
func (s *Server) serveManifest(w http.ResponseWriter, r *http.Request, rt *route, p *profile.Profile) {
	if d, err := digest.Parse(rt.ref); err == nil {
		s.serveManifestByDigest(w, r, rt, d)
		return
	}
	w.Header().Set("Vary", varyTailored)
	if p == nil {
		newError(http.StatusBadRequest, codeDenied, "no profile for this client: log in with one, use /v2/_p/<profile>/ or the "+ProfileHeader+" header (none: the untailored view), or start the server with --profile", nil).Write(w, r)
		return
	}
	src, err := s.sourceOrPin(r.Context(), rt)
	if err != nil {
		s.o.logger.Warn("manifest by tag failed", "backend", rt.be.name(), "repo", rt.repo, "tag", rt.ref, "err", redactURL(err.Error()))
		writeError(w, r, err)
		return
	}
	if src.stale {
		w.Header().Set("Warning", `110 tailor "upstream unreachable: the tag's last known index"`)
	}
	kind := s.profileKind(r, rt, p)
	if p == untailored || src.idx == nil {
		s.m.served.WithLabelValues(kind, "").Inc()
		s.viewLog.Record(viewName(rt), rt.ref, s.viewProfile(p), v1.Hash{}, "")
		writeManifest(w, r, src.m)
		return
	}
	t, err := s.tailorFor(src, p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.m.served.WithLabelValues(kind, t.target).Inc()
	s.viewLog.Record(viewName(rt), rt.ref, s.viewProfile(p), t.selected.Digest, t.target)
	if acceptsIndex(r) {
		writeManifest(w, r, t.manifest)
		return
	}
	m, err := s.manifestByDigest(r.Context(), rt, digest.Digest(t.selected.Digest.String()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeManifest(w, r, m)
}

// serveManifestByDigest answers a manifest by digest: a tailored answer
// tailor made, else the backend's (an upstream's read whole, bounded and
// digest-checked; the embedded registry's passed on).
func (s *Server) serveManifestByDigest(w http.ResponseWriter, r *http.Request, rt *route, d digest.Digest) {
	if m, ok := s.answers.get(d); ok {
		writeManifest(w, r, m)
		return
	}
	m, err := s.store.get(d)
	if err != nil {
		s.o.logger.Warn("tailored index store", "err", err)
	}
	if m == nil {
		m = s.remake(r.Context(), rt, d)
	}
	if m != nil {
		writeManifest(w, r, m)
		return
	}
	if _, ok := rt.be.(*upstreamBackend); !ok {
		rt.be.forward(w, r, rt.repo, rt.tail)
		return
	}
	if m, err = s.manifestByDigest(r.Context(), rt, d); err != nil {
		writeError(w, r, err)
		return
	}
	writeManifest(w, r, m)
}

// manifestByDigest reads the manifest d of rt's repository from its backend.
func (s *Server) manifestByDigest(ctx context.Context, rt *route, d digest.Digest) (*manifest, error) {
	return rt.be.getManifest(ctx, rt.repo, d.String())
}

// source is the manifest a tag names, parsed for tailoring: fetched once
// for identical requests in flight; from an upstream, reused for
// s.o.tagTTL after it was read, and recorded, so that when the upstream
// fails (unreachable, 5xx, timeout, rate limit) a tag read before resolves
// to its last known manifest (logged and counted).
func (s *Server) source(ctx context.Context, rt *route) (*source, error) {
	key := rt.be.name() + "\x00" + rt.repo + "\x00" + rt.ref
	up, isUp := rt.be.(*upstreamBackend)
	if isUp && s.o.tagTTL > 0 {
		if st, ok := s.recent.Get(key); ok && time.Since(st.checked) < s.o.tagTTL {
			if src, ok := s.sources.get(st.d); ok {
				return src, nil
			}
		}
	}
	v, err, _ := s.flight.Do(key, func() (any, error) {
		m, err := rt.be.getManifest(context.WithoutCancel(ctx), rt.repo, rt.ref)
		if err != nil {
			if isUp && upstreamDown(err) {
				if src := s.lastKnown(key, up, rt, err); src != nil {
					return src, nil
				}
			}
			return nil, err
		}
		src, err := s.sourceOf(m)
		if err != nil || !isUp {
			return src, err
		}
		s.recent.Add(key, &tagState{d: m.digest, checked: time.Now()})
		if err := s.tagRecords.put(up.name(), rt.repo, rt.ref, m); err != nil {
			s.m.storeErrors.Inc()
			s.o.logger.Warn("tag record not written", "err", err)
		}
		return src, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*source), nil
}

// tagState is the digest a tag named when last read from its upstream
// (its source is in s.sources while it stays there).
type tagState struct {
	d       digest.Digest
	checked time.Time
}

// upstreamDown reports whether err means the upstream could not answer
// (rather than answered no): unreachable, 5xx, timeout, rate limit.
func upstreamDown(err error) bool {
	var re *regError
	if !errors.As(err, &re) {
		return false
	}
	return re.Code == codeUnavailable || re.Status == http.StatusTooManyRequests
}

// lastKnown is the manifest the tag key named when last read (in memory,
// else its record on disk), marked stale; nil when none is known.
func (s *Server) lastKnown(key string, up *upstreamBackend, rt *route, cause error) *source {
	var src *source
	if st, ok := s.recent.Get(key); ok {
		src, _ = s.sources.get(st.d)
	}
	if src == nil {
		m, err := s.tagRecords.get(up.name(), rt.repo, rt.ref)
		switch {
		case m != nil:
			if src, err = s.sourceOf(m); err != nil {
				return nil
			}
		case err != nil:
			s.o.logger.Warn("tag record unreadable", "err", err)
		}
	}
	if src == nil {
		return nil
	}
	s.m.stale.WithLabelValues(up.name()).Inc()
	s.o.logger.Warn("upstream failed: serving the tag from its last known index", "upstream", up.name(),
		"repo", rt.repo, "tag", rt.ref, "digest", src.m.digest.String(), "err", cause.Error())
	stale := *src
	stale.stale = true
	return &stale
}

// tailorFor is src's answer for p: the entry p gets, rewritten once per
// entry and kept in memory, then in the store (a failed write is logged
// and counted, the answer served anyway: reading a tag must not need a
// free disk).
func (s *Server) tailorFor(src *source, p *profile.Profile) (*tailored, error) {
	chosen, target, needs, err := s.memo.choose(src, p)
	if err != nil {
		return nil, err
	}
	key := answerKey{src.m.digest, chosen}
	if m, ok := s.answers.get(key); ok {
		if !s.recipes.Contains(m.digest) { // a read lock: the hot path stays shared
			s.recipes.Add(m.digest, recipe{src.m.digest, chosen})
		}
		return &tailored{manifest: m, selected: src.idx.Manifests[chosen], target: target}, nil
	}
	t, err := answer(src, chosen, target, needs)
	if err != nil {
		return nil, err
	}
	s.answers.add(key, t.manifest)
	s.answers.add(t.manifest.digest, t.manifest)
	s.recipes.Add(t.manifest.digest, recipe{src.m.digest, chosen})
	if err := s.store.put(t.manifest); err != nil {
		s.m.storeErrors.Inc()
		s.o.logger.Warn("tailored index not stored: served from memory", "digest", t.manifest.digest.String(), "err", err)
	}
	s.m.selections.WithLabelValues(t.target).Inc()
	s.o.logger.Debug("tailored", "source", src.m.digest.String(), "target", t.target,
		"selected", t.selected.Digest.String(), "digest", t.manifest.digest.String())
	return t, nil
}

// profileKind is the metrics label of a request's profile: the config's
// name for it, none, default, or spec (client-chosen specs are not
// labels: they are unbounded).
func (s *Server) profileKind(r *http.Request, rt *route, p *profile.Profile) string {
	switch {
	case p == untailored:
		return ProfileNone
	case p == s.o.profile && rt.profile == "" && r.Header.Get(ProfileHeader) == "":
		return "default"
	}
	for n, q := range s.o.profiles {
		if q == p {
			return n
		}
	}
	return "spec"
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
