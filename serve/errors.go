package serve

import "github.com/tailor-dev/tailor/distspec"

// Error codes of the OCI distribution spec (and two of distribution's own
// for upstream trouble), as package distspec defines them.
const (
	codeBlobUnknown       = distspec.CodeBlobUnknown
	codeBlobUploadInvalid = distspec.CodeBlobUploadInvalid
	codeDigestInvalid     = distspec.CodeDigestInvalid
	codeManifestInvalid   = distspec.CodeManifestInvalid
	codeManifestUnknown   = distspec.CodeManifestUnknown
	codeNameInvalid       = distspec.CodeNameInvalid
	codeNameUnknown       = distspec.CodeNameUnknown
	codeSizeInvalid       = distspec.CodeSizeInvalid
	codeUnauthorized      = distspec.CodeUnauthorized
	codeDenied            = distspec.CodeDenied
	codeUnsupported       = distspec.CodeUnsupported
	codeUnavailable       = distspec.CodeUnavailable
	codeUnknown           = distspec.CodeUnknown
	codeTooManyRequests   = distspec.CodeTooManyRequests
)

// regError is an error the server answers with, in the OCI error format:
// the protocol's one, as the embedded registry's (Write sends it).
type regError = distspec.Error

func newError(status int, code, message string, detail any) *regError {
	return distspec.NewError(status, code, message, detail)
}
