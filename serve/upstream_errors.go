package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/tailor-dev/tailor/internal/lazyre"
)

// unreachable turns a transport error into a registry error. What went
// wrong (addresses, names inside the network) goes to the log, not to
// the client.
func (u *upstreamBackend) unreachable(err error) error {
	var re *regError
	if errors.As(err, &re) {
		return re
	}
	var te *transport.Error
	if errors.As(err, &te) {
		u.m.upstreamErrors.WithLabelValues(u.up.Name, strconv.Itoa(te.StatusCode)).Inc()
		u.log.Warn("upstream error", "upstream", u.up.Name, "status", te.StatusCode, "err", redactURL(te.Error()))
		return u.mapStatus(te.StatusCode, "")
	}
	var ne net.Error
	status, kind, msg := http.StatusBadGateway, "network", "upstream "+u.up.Name+" unreachable"
	switch {
	case errors.Is(err, errRedirectOffHost), errors.Is(err, errRedirectPrivate), errors.Is(err, errRedirectLoop):
		kind, msg = "redirect", "upstream "+u.up.Name+" redirected where this server does not follow"
	case errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded):
		status, kind = http.StatusGatewayTimeout, "timeout"
	}
	u.m.upstreamErrors.WithLabelValues(u.up.Name, kind).Inc()
	u.log.Warn("upstream unreachable", "upstream", u.up.Name, "kind", kind, "err", redactURL(err.Error()))
	return newError(status, codeUnavailable, msg, nil)
}

// statusError reads (a little of) an upstream error answer, for the log.
func (u *upstreamBackend) statusError(resp *http.Response, tail string) error {
	u.m.upstreamErrors.WithLabelValues(u.up.Name, strconv.Itoa(resp.StatusCode)).Inc()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusNotFound {
		u.log.Warn("upstream error", "upstream", u.up.Name, "status", resp.StatusCode, "object", tail, "body", strings.TrimSpace(string(body)))
	}
	return u.mapStatus(resp.StatusCode, tail)
}

func (u *upstreamBackend) mapStatus(status int, tail string) error {
	code := codeUnknown
	switch {
	case status == http.StatusNotFound:
		code = codeNameUnknown
		if strings.HasPrefix(tail, "manifests/") {
			code = codeManifestUnknown
		} else if strings.HasPrefix(tail, "blobs/") {
			code = codeBlobUnknown
		}
		return newError(http.StatusNotFound, code, "not found upstream ("+u.up.Name+")", nil)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return newError(http.StatusForbidden, codeDenied, "upstream "+u.up.Name+" refused access (credentials, or no such repository)", nil)
	case status == http.StatusTooManyRequests:
		return newError(http.StatusTooManyRequests, codeTooManyRequests, "upstream "+u.up.Name+" rate limit", nil)
	case status >= 500:
		return newError(http.StatusBadGateway, codeUnavailable, fmt.Sprintf("upstream %s answered %d", u.up.Name, status), nil)
	}
	return newError(http.StatusBadGateway, code, fmt.Sprintf("upstream %s answered %d", u.up.Name, status), nil)
}

// redactURL drops query strings (tokens, signed URLs) from an error text.
func redactURL(s string) string { return queryRE.ReplaceAllString(s, "$1?REDACTED") }

var queryRE = lazyre.New(`(https?://[^\s?"']+)\?[^\s"']*`)

// asRegError is err as the client sees it: a regError as it is, anything
// else an internal error without detail (it may hold paths of the server).
func asRegError(err error) *regError {
	var re *regError
	if errors.As(err, &re) {
		return re
	}
	return newError(http.StatusInternalServerError, codeUnknown, "internal error (see the server log)", nil)
}

// redactUserinfo drops the user:password@ of the URLs in s, for messages
// and logs.
func redactUserinfo(s string) string { return userinfoRE.ReplaceAllString(s, "$1") }

var userinfoRE = lazyre.New(`(://)[^/@\s]*@`)
