package distspec

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Error codes of the OCI distribution spec, distribution's TAG_INVALID
// and PAGINATION_NUMBER_INVALID, and UNAVAILABLE for upstream trouble.
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
	CodeUnauthorized        = "UNAUTHORIZED"
	CodeDenied              = "DENIED"
	CodeUnsupported         = "UNSUPPORTED"
	CodeUnavailable         = "UNAVAILABLE"
	CodeTooManyRequests     = "TOOMANYREQUESTS"
	CodeUnknown             = "UNKNOWN"
)

// Error is an answer in the OCI error format. Its message and detail
// never hold a path of the server.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
	// RetryAfter is the Retry-After header of a 429 or 503 ("" none).
	RetryAfter string `json:"-"`
}

var _ error = (*Error)(nil)

// NewError returns the Error of status with code, message and detail.
func NewError(status int, code, message string, detail any) *Error {
	return &Error{Status: status, Code: code, Message: message, Detail: detail}
}

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

// Write sends e, without a body to a HEAD request. Headers set for a
// success (Docker-Content-Digest) are dropped.
func (e *Error) Write(w http.ResponseWriter, r *http.Request) {
	body := e.Body()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Del("Docker-Content-Digest")
	if e.RetryAfter != "" {
		h.Set("Retry-After", e.RetryAfter)
	}
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// Quoted is s for an error detail, cut to 80 bytes: a client's input is
// echoed back, never at any length.
func Quoted(s string) string {
	if len(s) > 80 {
		return strconv.Quote(s[:80]) + "..."
	}
	return strconv.Quote(s)
}
