package serve

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/opencontainers/go-digest"
)

// PinTagSuffix ends the tag of a pinned reference: a manifest by the tag
// "sha256-<hex>.tailor" is the manifest of digest sha256:<hex> of that
// repository, read by digest (never what any tag says) and tailored like
// an index by tag. It is how a pod pinned to an index digest still gets
// its node's best entry: the pinned-digest webhook (package pin) turns
// REPO@sha256:<hex> into REPO:sha256-<hex>.tailor, and a node's mirror
// answers it with a tailored index whose entries all come from that exact
// index (the cosign convention of sha256-<hex>.sig tags, another suffix).
const PinTagSuffix = ".tailor"

// pinnedDigest is the digest a pin tag names; ok is false for any other
// tag.
func pinnedDigest(tag string) (d digest.Digest, ok bool) {
	rest, ok := strings.CutSuffix(tag, PinTagSuffix)
	if !ok {
		return "", false
	}
	alg, hex, ok := strings.Cut(rest, "-")
	if !ok || alg != "sha256" {
		return "", false
	}
	d = digest.Digest(alg + ":" + hex)
	if d.Validate() != nil {
		return "", false
	}
	return d, true
}

// sourceOrPin is source for a tag, and for a pin tag the manifest of the
// digest it names, read by digest from rt's backend (digest-checked) and
// never recorded as a tag. A digest the backend does not have is the
// backend's 404.
func (s *Server) sourceOrPin(ctx context.Context, rt *route) (*source, error) {
	d, ok := pinnedDigest(rt.ref)
	if !ok {
		return s.source(ctx, rt)
	}
	m, err := rt.be.getManifest(ctx, rt.repo, d.String())
	if err != nil {
		return nil, err
	}
	if m.digest != d {
		return nil, newError(http.StatusBadGateway, codeManifestInvalid, fmt.Sprintf("pinned %s: the backend answered %s", d, m.digest), nil)
	}
	return parseSource(m)
}
