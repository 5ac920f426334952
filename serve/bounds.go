package serve

import (
	"net/http"
	"strconv"
	"strings"
)

// Bytes of a client-chosen method and path a request's log line keeps:
// every registry path fits; a longer one is an attack or a mistake, and
// its first bytes say which.
const (
	maxLogMethod = 16
	maxLogPath   = 1024
)

// methodLabel is the metrics label of an HTTP method: the methods of the
// distribution API and HTTP's own, else "other", so that clients cannot
// make up label values (a 1 MB method is a valid HTTP token).
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// clip is s cut to n bytes, saying how long it was.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "...(" + strconv.Itoa(len(s)) + " bytes)"
}
