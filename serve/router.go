package serve

import (
	"net/http"
	"regexp"
	"strings"
)

// Route kinds.
const (
	routeBase      = "base"
	routeCatalog   = "catalog"
	routeManifest  = "manifest"
	routeBlob      = "blob"
	routeUpload    = "upload"
	routeTags      = "tags"
	routeReferrers = "referrers"
)

// route is a parsed /v2/ request.
type route struct {
	kind    string
	profile string // from /v2/_p/<profile>/
	name    string // repository as the client named it (after any /v2/_p/<profile>/)
	repo    string // repository at the backend (prefix stripped)
	tail    string // path after /v2/<name>/
	ref     string // tag or digest of a manifest, digest of a blob
	be      backend
}

var (
	tailRE = regexp.MustCompile(`^(.+?)/(manifests/[^/]+|blobs/uploads/?[^/]*|blobs/[^/]+|tags/list|referrers/[^/]+)$`)
	nameRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)
)

// parseRoute reads the path and picks the backend: ?ns= (containerd
// mirrors), else a first path element naming an upstream, else the
// default upstream, else the embedded registry.
func (s *Server) parseRoute(r *http.Request) (*route, *regError) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2")
	if !ok || (rest != "" && rest[0] != '/') {
		return nil, newError(http.StatusNotFound, codeNameUnknown, "not a registry API path", r.URL.Path)
	}
	rest = strings.TrimPrefix(rest, "/")
	rt := &route{}
	if p, ok := strings.CutPrefix(rest, "_p/"); ok {
		rt.profile, rest, _ = strings.Cut(p, "/")
		if rt.profile == "" {
			return nil, newError(http.StatusBadRequest, codeNameInvalid, "empty profile in /v2/_p/<profile>/", nil)
		}
	}
	switch rest {
	case "":
		rt.kind = routeBase
		return rt, nil
	case "_catalog":
		rt.kind = routeCatalog
		return rt, nil
	}
	m := tailRE.FindStringSubmatch(rest)
	if m == nil {
		return nil, newError(http.StatusNotFound, codeNameUnknown, "not a registry API path", r.URL.Path)
	}
	name, tail := m[1], m[2]
	if !nameRE.MatchString(name) || len(name) > 255 {
		return nil, newError(http.StatusBadRequest, codeNameInvalid, "invalid repository name", name)
	}
	rt.name, rt.tail = name, tail
	kind, ref, _ := strings.Cut(tail, "/")
	switch {
	case kind == "manifests":
		rt.kind, rt.ref = routeManifest, ref
	case strings.HasPrefix(tail, "blobs/uploads"):
		rt.kind = routeUpload
	case kind == "blobs":
		rt.kind, rt.ref = routeBlob, ref
	case kind == "tags":
		rt.kind = routeTags
	default:
		rt.kind, rt.ref = routeReferrers, ref
	}
	var err *regError
	rt.be, rt.repo, err = s.pickBackend(r, name)
	return rt, err
}

func (s *Server) pickBackend(r *http.Request, name string) (backend, string, *regError) {
	if ns := r.URL.Query().Get("ns"); ns != "" {
		u, ok := s.remotes[ns]
		if !ok {
			return nil, "", newError(http.StatusNotFound, codeNameUnknown, "no upstream configured for registry "+ns, nil)
		}
		return u, repoAt(u, name), nil
	}
	if first, rest, ok := strings.Cut(name, "/"); ok {
		if u, ok := s.remotes[first]; ok {
			return u, repoAt(u, rest), nil
		}
	}
	if s.defaultRemote != nil {
		return s.defaultRemote, repoAt(s.defaultRemote, name), nil
	}
	return s.emb, name, nil
}

// repoAt is name as the upstream knows it: Docker Hub's official images
// live under library/.
func repoAt(u *upstreamBackend, name string) string {
	if (u.up.Name == "docker.io" || u.base.Host == "registry-1.docker.io") && !strings.Contains(name, "/") {
		return "library/" + name
	}
	return name
}
