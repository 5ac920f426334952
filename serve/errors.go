package serve

import (
	"encoding/json"
	"net/http"
)

// Error codes of the OCI distribution spec (and two of distribution's own
// for upstream trouble).
const (
	codeBlobUnknown       = "BLOB_UNKNOWN"
	codeBlobUploadInvalid = "BLOB_UPLOAD_INVALID"
	codeDigestInvalid     = "DIGEST_INVALID"
	codeManifestInvalid   = "MANIFEST_INVALID"
	codeManifestUnknown   = "MANIFEST_UNKNOWN"
	codeNameInvalid       = "NAME_INVALID"
	codeNameUnknown       = "NAME_UNKNOWN"
	codeSizeInvalid       = "SIZE_INVALID"
	codeUnauthorized      = "UNAUTHORIZED"
	codeDenied            = "DENIED"
	codeUnsupported       = "UNSUPPORTED"
	codeUnavailable       = "UNAVAILABLE"
	codeUnknown           = "UNKNOWN"
	codeTooManyRequests   = "TOOMANYREQUESTS"
)

// regError is an error the server answers with, in the OCI error format.
type regError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
	// retryAfter is the Retry-After header of a 429 or 503 ("" none).
	retryAfter string
}

func (e *regError) Error() string {
	s := e.Code + ": " + e.Message
	if d, ok := e.Detail.(string); ok && d != "" {
		s += ": " + d
	}
	return s
}

func newError(status int, code, message string, detail any) *regError {
	return &regError{Status: status, Code: code, Message: message, Detail: detail}
}

// write sends e as {"errors":[{"code","message","detail"}]}.
func (e *regError) write(w http.ResponseWriter, r *http.Request) {
	body, _ := json.Marshal(struct {
		Errors []*regError `json:"errors"`
	}{[]*regError{e}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Del("Content-Length")
	h.Del("Docker-Content-Digest")
	if e.retryAfter != "" {
		h.Set("Retry-After", e.retryAfter)
	}
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
