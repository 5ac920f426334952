package registry

import (
	"context"
	"net/http"

	"github.com/opencontainers/go-digest"
)

// ResolveManifest is GetManifest without the body: the digest and media
// type of the manifest ref (a tag or a digest) of repository name names,
// from its tag and link files, for callers that keep manifest bodies by
// digest (they never change). Its errors are GetManifest's.
func (reg *Registry) ResolveManifest(_ context.Context, name, ref string) (digest.Digest, string, error) {
	if !validName(name) {
		return "", "", newError(http.StatusBadRequest, CodeNameInvalid, "invalid repository name", quoted(name))
	}
	rf, rerr := parseReference(ref)
	if rerr != nil {
		return "", "", rerr
	}
	d, mt, rerr := reg.resolve(name, rf)
	if rerr != nil {
		return "", "", rerr
	}
	return d, mt, nil
}
