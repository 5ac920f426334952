package serve

import (
	"context"
	"net/http"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/distspec"
)

// maxManifestSize is the largest manifest read or accepted: 4 MiB, as
// distribution and containerd use.
const maxManifestSize = distspec.MaxManifestSize

// Manifest media types.
const (
	mediaOCIIndex      = distspec.MediaOCIIndex
	mediaOCIManifest   = distspec.MediaOCIManifest
	mediaDockerList    = distspec.MediaDockerList
	mediaDockerImage   = distspec.MediaDockerImage
	mediaDockerSchema1 = distspec.MediaDockerSchema1
)

// allManifestTypes is what tailor asks a backend for.
var allManifestTypes = []string{mediaOCIIndex, mediaDockerList, mediaOCIManifest, mediaDockerImage}

// manifest is a manifest read whole from a backend (at most maxManifestSize).
type manifest struct {
	mediaType string
	digest    digest.Digest
	body      []byte
}

// backend is where a repository's content comes from: a configured
// upstream registry or the embedded one.
type backend interface {
	// name is the backend's name for logs and metrics.
	name() string
	// getManifest reads a manifest by tag or digest, checked against
	// its digest when ref is one.
	getManifest(ctx context.Context, repo, ref string) (*manifest, error)
	// forward answers r (a blob, a manifest by digest, a tag list) for
	// repo; tail is the path after /v2/<repo>/. Content is streamed and,
	// for a remote, digest-checked.
	forward(w http.ResponseWriter, r *http.Request, repo, tail string)
	// writable reports whether the backend takes pushes.
	writable() bool
}
