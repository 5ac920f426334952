package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/content"
	"github.com/tailor-dev/tailor/distspec"
)

// descriptor is an OCI descriptor as manifests and the referrers API
// carry it.
type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// manifestJSON is what the registry reads of a manifest or index.
type manifestJSON struct {
	SchemaVersion *int              `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *descriptor       `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Manifests     []descriptor      `json:"manifests"`
	Subject       *descriptor       `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

// manifest is a checked manifest: its type and what it points to.
type manifest struct {
	mediaType    string
	artifactType string
	annotations  map[string]string
	subject      digest.Digest
	blobs        []digest.Digest // config and distributable layers: must be in the repository
	manifests    []digest.Digest // an index's entries: must be in the repository
}

func isIndexType(mt string) bool { return distspec.IsIndex(mt) }

func knownType(mt string) bool { return distspec.IsManifest(mt) }

// nonDistributable reports whether a layer need not be pushed: OCI
// non-distributable and Docker foreign layers live elsewhere.
func nonDistributable(mt string) bool {
	return strings.Contains(mt, ".nondistributable.") || strings.Contains(mt, ".foreign.")
}

// parseManifest checks body as a manifest sent with Content-Type ct. The
// type is ct when it is a manifest type, else the body's mediaType, else
// what the body looks like (config: an image manifest, manifests: an
// index).
func parseManifest(body []byte, ct string) (*manifest, *Error) {
	var j manifestJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&j); err != nil {
		return nil, errInvalid("not a JSON manifest", err.Error())
	}
	if dec.More() {
		return nil, errInvalid("data after the manifest's JSON", nil)
	}
	if j.SchemaVersion == nil || *j.SchemaVersion != 2 {
		return nil, errInvalid("schemaVersion must be 2", nil)
	}
	mt, _, _ := mime.ParseMediaType(ct)
	if !knownType(mt) {
		switch {
		case knownType(j.MediaType):
			mt = j.MediaType
		case j.MediaType == "" && j.Manifests != nil && j.Config == nil:
			mt = MediaOCIIndex
		case j.MediaType == "" && j.Config != nil:
			mt = MediaOCIManifest
		default:
			return nil, errInvalid("unsupported manifest media type", quoted(firstOf(ct, j.MediaType)))
		}
	}
	if j.MediaType != "" && j.MediaType != mt {
		return nil, errInvalid("the manifest's mediaType is not its Content-Type", map[string]string{"mediaType": j.MediaType, "contentType": mt})
	}
	m := &manifest{mediaType: mt, artifactType: j.ArtifactType, annotations: j.Annotations}
	if j.Subject != nil {
		d, err := checkDescriptor(*j.Subject, "subject")
		if err != nil {
			return nil, err
		}
		m.subject = d
	}
	if isIndexType(mt) {
		for i, desc := range j.Manifests {
			d, err := checkDescriptor(desc, fmt.Sprintf("manifests[%d]", i))
			if err != nil {
				return nil, err
			}
			m.manifests = append(m.manifests, d)
		}
		return m, nil
	}
	if j.Config == nil {
		return nil, errInvalid("an image manifest needs a config", nil)
	}
	d, err := checkDescriptor(*j.Config, "config")
	if err != nil {
		return nil, err
	}
	m.blobs = append(m.blobs, d)
	if m.artifactType == "" {
		m.artifactType = j.Config.MediaType
	}
	for i, desc := range j.Layers {
		d, err := checkDescriptor(desc, fmt.Sprintf("layers[%d]", i))
		if err != nil {
			return nil, err
		}
		if !nonDistributable(desc.MediaType) {
			m.blobs = append(m.blobs, d)
		}
	}
	return m, nil
}

func checkDescriptor(desc descriptor, where string) (digest.Digest, *Error) {
	d, err := content.ParseDigest(desc.Digest)
	if err != nil {
		return "", errInvalid("invalid digest in "+where, quoted(desc.Digest))
	}
	if desc.Size < 0 {
		return "", errInvalid("negative size in "+where, desc.Size)
	}
	return d, nil
}

func errInvalid(message string, detail any) *Error {
	return newError(http.StatusBadRequest, CodeManifestInvalid, message, detail)
}

func firstOf(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// referrer is the descriptor of manifest d (size bytes) in the referrers
// list of its subject: artifactType, else an image's config media type.
func (m *manifest) referrer(d digest.Digest, size int64) descriptor {
	return descriptor{MediaType: m.mediaType, Digest: string(d), Size: size,
		ArtifactType: m.artifactType, Annotations: m.annotations}
}
