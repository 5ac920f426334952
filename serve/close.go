package serve

import (
	"errors"
	"net/http"
)

// Close stops what the Server runs besides answering requests: the
// embedded registry's janitor and its blob store, the content cache's
// store, and the idle connections to upstreams (of the transport given
// by WithTransport too). Stop serving (Run's context, or the caller's
// http.Server) first: requests after Close fail. Close is idempotent.
func (s *Server) Close() error {
	var errs []error
	if s.emb != nil {
		errs = append(errs, s.emb.reg.Close())
	}
	if s.cache != nil {
		errs = append(errs, s.cache.store.Close())
	}
	type idleCloser interface{ CloseIdleConnections() }
	if t, ok := s.o.transport.(idleCloser); ok {
		t.CloseIdleConnections()
	}
	for _, r := range s.remotes {
		if t, ok := r.guard.guarded.(idleCloser); ok {
			t.CloseIdleConnections()
		}
	}
	return errors.Join(errs...)
}

// checkWriteProfile refuses a write that names a profile (path prefix
// or header) that does not parse: reads already refuse it, and a write
// must not be taken under a name the server does not understand.
func (s *Server) checkWriteProfile(r *http.Request, rt *route) *regError {
	if rt.profile != "" {
		if _, err := s.namedProfile(rt.profile); err != nil {
			return newError(http.StatusBadRequest, codeNameInvalid, "unknown or malformed profile in path /v2/_p/<profile>/", err.Error())
		}
	}
	if h := r.Header.Get(ProfileHeader); h != "" {
		if _, err := s.namedProfile(h); err != nil {
			return newError(http.StatusBadRequest, codeNameInvalid, "unknown or malformed profile in the "+ProfileHeader+" header", err.Error())
		}
	}
	return nil
}
