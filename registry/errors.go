package registry

import (
	"errors"
	"net/http"
	"syscall"

	"github.com/tailor-dev/tailor/content"
	"github.com/tailor-dev/tailor/distspec"
)

// Error codes of the OCI distribution spec, and TAG_INVALID and
// PAGINATION_NUMBER_INVALID of distribution's (package distspec).
const (
	CodeBlobUnknown         = distspec.CodeBlobUnknown
	CodeBlobUploadInvalid   = distspec.CodeBlobUploadInvalid
	CodeBlobUploadUnknown   = distspec.CodeBlobUploadUnknown
	CodeDigestInvalid       = distspec.CodeDigestInvalid
	CodeManifestBlobUnknown = distspec.CodeManifestBlobUnknown
	CodeManifestInvalid     = distspec.CodeManifestInvalid
	CodeManifestUnknown     = distspec.CodeManifestUnknown
	CodeNameInvalid         = distspec.CodeNameInvalid
	CodeNameUnknown         = distspec.CodeNameUnknown
	CodeSizeInvalid         = distspec.CodeSizeInvalid
	CodeTagInvalid          = distspec.CodeTagInvalid
	CodePaginationInvalid   = distspec.CodePaginationInvalid
	CodeDenied              = distspec.CodeDenied
	CodeUnsupported         = distspec.CodeUnsupported
	CodeTooManyRequests     = distspec.CodeTooManyRequests
	CodeUnknown             = distspec.CodeUnknown
)

// Error is an answer of the registry in the OCI error format: the
// protocol's one (distspec.Error). Its message and detail never hold a
// path of the server.
type Error = distspec.Error

func newError(status int, code, message string, detail any) *Error {
	return distspec.NewError(status, code, message, detail)
}

// quoted is s for an error detail, cut to 80 bytes.
func quoted(s string) string { return distspec.Quoted(s) }

// storageError turns an error of the store into an answer: a full disk is
// 507 and says so, anything else a 500 with no detail (logged instead).
func (reg *Registry) storageError(r *http.Request, err error) *Error {
	var re *Error
	if errors.As(err, &re) {
		return re
	}
	if errors.Is(err, content.ErrNoSpace) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		reg.o.logger.ErrorContext(r.Context(), "registry storage full", "method", r.Method, "path", r.URL.Path, "err", err)
		return errNoSpace()
	}
	reg.o.logger.ErrorContext(r.Context(), "registry storage error", "method", r.Method, "path", r.URL.Path, "err", err)
	return newError(http.StatusInternalServerError, CodeUnknown, "registry storage error", nil)
}

func errNoSpace() *Error {
	return newError(http.StatusInsufficientStorage, CodeUnknown, "the registry's storage is full", nil)
}
