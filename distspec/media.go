package distspec

// Manifest media types.
const (
	MediaOCIIndex      = "application/vnd.oci.image.index.v1+json"
	MediaOCIManifest   = "application/vnd.oci.image.manifest.v1+json"
	MediaDockerList    = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaDockerImage   = "application/vnd.docker.distribution.manifest.v2+json"
	MediaDockerSchema1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// MaxManifestSize is the largest manifest read or accepted, however it
// is sent: 4 MiB, as distribution and containerd use.
const MaxManifestSize = 4 << 20

// IsIndex reports whether mt is an index type (OCI index, Docker list).
func IsIndex(mt string) bool { return mt == MediaOCIIndex || mt == MediaDockerList }

// IsManifest reports whether mt is a manifest type tailor reads (schema 2
// and OCI; schema 1 is not).
func IsManifest(mt string) bool {
	return IsIndex(mt) || mt == MediaOCIManifest || mt == MediaDockerImage
}
