package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"syscall"

	"github.com/tailor-dev/tailor/content"
)

// Error codes of the OCI distribution spec, and TAG_INVALID and
// PAGINATION_NUMBER_INVALID of distribution's.
const (
	CodeBlobUnknown         = "BLOB_UNKNOWN"
	CodeBlobUploadInvalid   = "BLOB_UPLOAD_INVALID"
	CodeBlobUploadUnknown   = "BLOB_UPLOAD_UNKNOWN"
	CodeDigestInvalid       = "DIGEST_INVALID"
	CodeManifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
	CodeManifestInvalid     = "MANIFEST_INVALID"
	CodeManifestUnknown     = "MANIFEST_UNKNOWN"
	CodeNameInvalid         = "NAME_INVALID"
	CodeNameUnknown         = "NAME_UNKNOWN"
	CodeSizeInvalid         = "SIZE_INVALID"
	CodeTagInvalid          = "TAG_INVALID"
	CodePaginationInvalid   = "PAGINATION_NUMBER_INVALID"
	CodeUnsupported         = "UNSUPPORTED"
	CodeDenied              = "DENIED"
	CodeTooManyRequests     = "TOOMANYREQUESTS"
	CodeUnknown             = "UNKNOWN"
)

// Error is an answer of the registry in the OCI error format. Its message
// and detail never hold a path of the server.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

var _ error = (*Error)(nil)

func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.Detail != nil {
		s += fmt.Sprintf(": %v", e.Detail)
	}
	return s
}

// Body is the answer's body: {"errors":[{"code","message","detail"}]}.
func (e *Error) Body() []byte {
	b, _ := json.Marshal(struct {
		Errors []*Error `json:"errors"`
	}{[]*Error{e}})
	return b
}

// Write sends e, without a body to a HEAD request.
func (e *Error) Write(w http.ResponseWriter, r *http.Request) {
	body := e.Body()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func newError(status int, code, message string, detail any) *Error {
	return &Error{Status: status, Code: code, Message: message, Detail: detail}
}

// quoted is s for an error detail, cut to 80 bytes: a client's input is
// echoed back, never at any length.
func quoted(s string) string {
	if len(s) > 80 {
		return strconv.Quote(s[:80]) + "..."
	}
	return strconv.Quote(s)
}

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
