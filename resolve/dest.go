package resolve

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// ErrBadDest is returned (wrapped) for a destination Pull cannot write to.
var ErrBadDest = errors.New("bad destination")

// Destination kinds.
const (
	DestOCI           = "oci"            // an OCI image layout directory
	DestDockerArchive = "docker-archive" // a `docker load` tarball
)

var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// Dest is where Pull writes: oci:DIR[:TAG] or docker-archive:FILE.
type Dest struct {
	Kind string
	Path string
	// Tag names the image in an OCI layout (org.opencontainers.image.ref.name).
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

// ParseDest reads oci:DIR[:TAG] or docker-archive:FILE. In oci:, the text
// after the last colon is the tag when it is a valid tag and DIR is not
// empty without it.
func ParseDest(s string) (Dest, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return Dest{}, fmt.Errorf("%w: %q: want oci:DIR[:TAG] or docker-archive:FILE", ErrBadDest, s)
	}
	switch kind {
	case DestOCI:
		d := Dest{Kind: kind, Path: rest}
		if i := strings.LastIndex(rest, ":"); i > 0 && tagPattern.MatchString(rest[i+1:]) {
			d.Path, d.Tag = rest[:i], rest[i+1:]
		} else if i >= 0 {
			return Dest{}, fmt.Errorf("%w: %q: %q is not a valid tag", ErrBadDest, s, rest[i+1:])
		}
		return d, nil
	case DestDockerArchive:
		return Dest{Kind: kind, Path: rest}, nil
	}
	return Dest{}, fmt.Errorf("%w: %q: unknown kind %q (want oci or docker-archive)", ErrBadDest, s, kind)
}
