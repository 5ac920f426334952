package registry

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/content"
	"github.com/tailor-dev/tailor/distspec"
)

// Limits of what a client names.
const (
	maxNameLen = distspec.MaxNameLen
	maxTagLen  = distspec.MaxTagLen
)

// validName reports whether s is a repository name of the distribution
// spec (distspec.ValidName).
func validName(s string) bool { return distspec.ValidName(s) }

// validTag reports whether s matches [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
// (distspec.ValidTag).
func validTag(s string) bool { return distspec.ValidTag(s) }

// reference is a manifest reference: a tag or a digest.
type reference struct {
	tag    string
	digest digest.Digest
}

func (r reference) String() string {
	if r.tag != "" {
		return r.tag
	}
	return string(r.digest)
}

// parseReference reads a manifest reference: a digest when it holds a
// colon, else a tag.
func parseReference(s string) (reference, *Error) {
	if strings.Contains(s, ":") {
		d, err := content.ParseDigest(s)
		if err != nil {
			return reference{}, newError(http.StatusBadRequest, CodeDigestInvalid, "invalid digest: sha256 or sha512 in lower-case hex", quoted(s))
		}
		return reference{digest: d}, nil
	}
	if !validTag(s) {
		return reference{}, newError(http.StatusBadRequest, CodeTagInvalid, "invalid tag: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}", quoted(s))
	}
	return reference{tag: s}, nil
}

func parseDigest(s string) (digest.Digest, *Error) {
	d, err := content.ParseDigest(s)
	if err != nil {
		return "", newError(http.StatusBadRequest, CodeDigestInvalid, "invalid digest: sha256 or sha512 in lower-case hex", quoted(s))
	}
	return d, nil
}

// Route kinds.
const (
	kindManifest = iota + 1
	kindBlob
	kindUploads // blobs/uploads/ : start an upload
	kindUpload  // blobs/uploads/<id>
	kindTags
	kindReferrers
)

// route is what a path under /v2/<name>/ asks for.
type route struct {
	kind int
	name string
	arg  string // reference, digest or upload id
}

// parsePath reads a /v2/ path. ok is false for a path outside the API;
// base and catalog are the two paths without a repository.
func parsePath(p string) (rt route, base, catalog bool, err *Error) {
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		if p == "/v2" {
			return rt, true, false, nil
		}
		return rt, false, false, errNotFound(p)
	}
	switch rest {
	case "":
		return rt, true, false, nil
	case "_catalog":
		return rt, false, true, nil
	}
	name, tail, ok := splitRepoPath(rest)
	if !ok {
		return rt, false, false, errNotFound(p)
	}
	rt, err = parseTail(name, tail)
	return rt, false, false, err
}

// splitRepoPath splits "<name>/<tail>" at the last place where the tail is
// an API path: "manifests/<ref>", "blobs/<digest>", "blobs/uploads/[<id>]",
// "tags/list" or "referrers/<digest>".
func splitRepoPath(s string) (name, tail string, ok bool) {
	for _, marker := range []string{"/blobs/uploads/", "/blobs/uploads", "/manifests/", "/blobs/", "/tags/list", "/referrers/"} {
		i := strings.LastIndex(s, marker)
		if i <= 0 {
			continue
		}
		after := s[i+len(marker):]
		switch marker {
		case "/tags/list", "/blobs/uploads":
			if after != "" {
				continue
			}
		default:
			if strings.Contains(after, "/") {
				continue
			}
		}
		return s[:i], s[i+1:], true
	}
	return "", "", false
}

// parseTail reads the path after /v2/<name>/ (as the serve package hands
// it over).
func parseTail(name, tail string) (route, *Error) {
	if !validName(name) {
		return route{}, newError(http.StatusBadRequest, CodeNameInvalid, "invalid repository name", quoted(name))
	}
	rt := route{name: name}
	switch {
	case tail == "tags/list":
		rt.kind = kindTags
	case tail == "blobs/uploads" || tail == "blobs/uploads/":
		rt.kind = kindUploads
	case strings.HasPrefix(tail, "blobs/uploads/"):
		rt.kind, rt.arg = kindUpload, strings.TrimPrefix(tail, "blobs/uploads/")
	case strings.HasPrefix(tail, "blobs/"):
		rt.kind, rt.arg = kindBlob, strings.TrimPrefix(tail, "blobs/")
	case strings.HasPrefix(tail, "manifests/"):
		rt.kind, rt.arg = kindManifest, strings.TrimPrefix(tail, "manifests/")
	case strings.HasPrefix(tail, "referrers/"):
		rt.kind, rt.arg = kindReferrers, strings.TrimPrefix(tail, "referrers/")
	default:
		return route{}, errNotFound("/v2/" + name + "/" + tail)
	}
	if strings.Contains(rt.arg, "/") {
		return route{}, errNotFound("/v2/" + name + "/" + tail)
	}
	return rt, nil
}

func errNotFound(p string) *Error {
	return newError(http.StatusNotFound, CodeNameUnknown, "not a registry API path", quoted(p))
}

// parseContentRange reads an upload chunk's Content-Range: "<start>-<end>",
// inclusive, as the distribution spec writes it ("bytes=" or "bytes "
// before it tolerated). ok is false for anything else.
func parseContentRange(s string) (start, end int64, ok bool) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "bytes="), "bytes ")
	a, b, found := strings.Cut(s, "-")
	if !found || a == "" || b == "" || len(a) > 19 || len(b) > 19 {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start || a[0] == '+' || b[0] == '+' {
		return 0, 0, false
	}
	return start, end, true
}
