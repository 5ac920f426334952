package serve

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/distspec"
	"github.com/tailor-dev/tailor/internal/lazyre"
	"github.com/tailor-dev/tailor/remote"
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
	tailRE = lazyre.New(`^(.+?)/(manifests/[^/]+|blobs/uploads/?[^/]*|blobs/[^/]+|tags/list|referrers/[^/]+)$`)
)

// The other grammars are written out: counted repetitions ({0,127}) compile
// into regexp programs of hundreds of kilobytes, built at every start of
// every tailor command.

// validUploadID reports whether s is an upload session id: at most 128 of
// [a-zA-Z0-9._=-], not starting with '.'.
func validUploadID(s string) bool {
	if len(s) == 0 || len(s) > 128 || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(distspec.Alnum(c) || c == '_' || c == '=' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// validNS reports whether s is a registry host as containerd sends it in
// ?ns=: 1-253 of [a-zA-Z0-9.-], then an optional :port of 1-5 digits.
func validNS(s string) bool {
	host, port, hasPort := strings.Cut(s, ":")
	if len(host) == 0 || len(host) > 253 || hasPort && (len(port) == 0 || len(port) > 5) {
		return false
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; !(distspec.Alnum(c) || c == '.' || c == '-') {
			return false
		}
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	return true
}

// maxProfileLen bounds a profile a client names (path prefix, header,
// login): profiles are parsed and cached per distinct spelling.
const maxProfileLen = 512

// parseRoute reads the path and picks the backend: ?ns= (containerd
// mirrors), else a first path element naming an upstream, else the
// default upstream, else the embedded registry.
func (s *Server) parseRoute(r *http.Request) (*route, *regError) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2")
	if !ok || (rest != "" && rest[0] != '/') {
		return nil, newError(http.StatusNotFound, codeNameUnknown, "not a registry API path", nil)
	}
	rest = strings.TrimPrefix(rest, "/")
	rt := &route{}
	if p, ok := strings.CutPrefix(rest, "_p/"); ok {
		rt.profile, rest, _ = strings.Cut(p, "/")
		if rt.profile == "" || len(rt.profile) > maxProfileLen {
			return nil, newError(http.StatusBadRequest, codeNameInvalid,
				fmt.Sprintf("profile in /v2/_p/<profile>/: want a name or spec of 1 to %d bytes", maxProfileLen), nil)
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
		return nil, newError(http.StatusNotFound, codeNameUnknown, "not a registry API path", nil)
	}
	name, tail := m[1], m[2]
	if !distspec.ValidName(name) {
		return nil, newError(http.StatusBadRequest, codeNameInvalid, "invalid repository name", nil)
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
	if err := checkRef(rt); err != nil {
		return nil, err
	}
	var err *regError
	if rt.be, rt.repo, err = s.pickBackend(r, name); err != nil {
		return nil, err
	}
	return rt, nil
}

// checkRef refuses a tag, digest or upload id that breaks its grammar
// before anything is asked of a backend: a tag is the spec's
// [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}, blobs and referrers take a digest.
func checkRef(rt *route) *regError {
	switch rt.kind {
	case routeManifest:
		if remote.ValidTag(rt.ref) {
			return nil
		}
		if _, err := digest.Parse(rt.ref); err == nil {
			return nil
		}
		return newError(http.StatusBadRequest, codeManifestInvalid,
			"invalid reference: want a tag ([a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}) or a digest (sha256:<64 hex>)", nil)
	case routeBlob, routeReferrers:
		if _, err := digest.Parse(rt.ref); err != nil {
			return newError(http.StatusBadRequest, codeDigestInvalid, "invalid digest: want sha256:<64 hex>", nil)
		}
	case routeUpload:
		id := strings.TrimPrefix(strings.TrimPrefix(rt.tail, "blobs/uploads"), "/")
		if id != "" && !validUploadID(id) {
			return newError(http.StatusBadRequest, codeBlobUploadInvalid, "invalid upload id", nil)
		}
	}
	return nil
}

// pickBackend chooses the backend of a repository. ?ns= (a containerd
// mirror's registry host) selects the upstream of that name and is not
// passed on: the next hop sees the repository alone. An embedded registry
// ignores it: it is the registry of whatever name it mirrors.
func (s *Server) pickBackend(r *http.Request, name string) (backend, string, *regError) {
	if ns := r.URL.Query().Get("ns"); ns != "" && s.emb == nil {
		if !validNS(ns) {
			return nil, "", newError(http.StatusBadRequest, codeNameInvalid, "invalid ?ns= registry host", nil)
		}
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
		if u, ok := s.remotes[registryOfPath(first)]; ok {
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
