package resolve

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/tailor-dev/tailor/remote"
)

// ErrBadDest is returned (wrapped) for a destination Pull cannot write to.
var ErrBadDest = errors.New("bad destination")

// Destination kinds.
const (
	DestOCI           = "oci"            // an OCI image layout directory
	DestDockerArchive = "docker-archive" // a `docker load` tarball
)

// Dest is where Pull writes: oci:DIR[:TAG] or docker-archive:FILE[:TAG].
type Dest struct {
	Kind string
	Path string
	// Tag names the image: in an OCI layout, its
	// org.opencontainers.image.ref.name; in a docker archive, its RepoTags
	// entry, either a whole reference (app:1, registry.example/app:1) or a
	// bare tag put on the pulled repository (v1).
	Tag string
}

// String formats d as ParseDest reads it.
func (d Dest) String() string {
	s := d.Kind + ":" + d.Path
	if d.Tag != "" {
		s += ":" + d.Tag
	}
	return s
}

// ParseDest reads oci:DIR[:TAG] or docker-archive:FILE[:TAG]. In oci:, the
// text after the last colon is the tag when it is a valid tag and DIR is
// not empty without it. In docker-archive:, the text after the first colon
// that is followed by a tagged reference (app:1, host:5000/app:1) or a bare
// tag (v1) is the tag; FILE keeps any other colon (/a:b/app.tar).
func ParseDest(s string) (Dest, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return Dest{}, fmt.Errorf("%w: %q: want oci:DIR[:TAG] or docker-archive:FILE", ErrBadDest, s)
	}
	switch kind {
	case DestOCI:
		l, err := remote.ParseLayoutRef(s)
		if err != nil || l.Digest != nil {
			return Dest{}, fmt.Errorf("%w: %q: want oci:DIR[:TAG]", ErrBadDest, s)
		}
		return Dest{Kind: kind, Path: l.Path, Tag: l.Tag}, nil
	case DestDockerArchive:
		return parseArchive(rest), nil
	}
	return Dest{}, fmt.Errorf("%w: %q: unknown kind %q (want oci or docker-archive)", ErrBadDest, s, kind)
}

// parseArchive splits FILE[:TAG] at the first colon followed by a tag.
func parseArchive(rest string) Dest {
	for i := 1; i < len(rest)-1; i++ {
		if rest[i] == ':' && isArchiveTag(rest[i+1:]) {
			return Dest{Kind: DestDockerArchive, Path: rest[:i], Tag: rest[i+1:]}
		}
	}
	return Dest{Kind: DestDockerArchive, Path: rest}
}

// isArchiveTag reports whether s is a bare tag or a reference with an
// explicit tag (and no digest).
func isArchiveTag(s string) bool {
	if remote.ValidTag(s) {
		return true
	}
	i := strings.LastIndex(s, ":")
	if i <= strings.LastIndex(s, "/") || !remote.ValidTag(s[i+1:]) || strings.Contains(s, "@") {
		return false
	}
	_, err := name.NewTag(s)
	return err == nil
}

// archiveTag is the RepoTags entry of a docker archive of res written to
// d: d's tag (a bare one on res's repository as spelled), else the
// reference pulled (which, by digest, gives the archive no RepoTags).
func archiveTag(d Dest, res *Result) (name.Reference, error) {
	switch {
	case d.Tag == "" && res.from.Ref != nil:
		return res.from.Ref, nil
	case d.Tag == "":
		// Pulled from an OCI layout: no repository to name, so no RepoTags
		// (a digest reference gives an archive none).
		return name.NewDigest("layout@" + res.Digest.String())
	case remote.ValidTag(d.Tag):
		return name.NewTag(res.Repository + ":" + d.Tag)
	}
	return name.NewTag(d.Tag)
}
