package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Classes of registry errors, for errors.Is. Every error a Client returns
// wraps one of them, or the context's error.
var (
	// ErrBadReference: the reference cannot be parsed (bad input).
	ErrBadReference = errors.New("bad reference")
	// ErrNotFound: the registry has no manifest for the reference.
	ErrNotFound = errors.New("manifest unknown")
	// ErrUnreachable: no HTTP answer from the registry (DNS, refused, TLS, timeout).
	ErrUnreachable = errors.New("registry unreachable")
	// ErrUnauthorized: the registry refused the credentials (or their absence).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrBadManifest: the manifest is not JSON, or of a type tailor does not read.
	ErrBadManifest = errors.New("bad manifest")
	// ErrRegistry: any other error answer of the registry.
	ErrRegistry = errors.New("registry error")
)

// classify wraps err from ggcr with its class and the reference, as one
// line: "manifest unknown: REF not found".
func classify(ref string, err error) error {
	var terr *transport.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %s: timed out: %w", ErrUnreachable, ref, err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", ref, err)
	case errors.As(err, &terr):
		return classifyStatus(ref, terr)
	case errors.Is(err, ErrRedirectLoop):
		return fmt.Errorf("%w: %s: %w", ErrRegistry, ref, err)
	}
	var nerr net.Error
	var operr *net.OpError
	var dnserr *net.DNSError
	if errors.As(err, &nerr) || errors.As(err, &operr) || errors.As(err, &dnserr) {
		return fmt.Errorf("%w: %s: %w", ErrUnreachable, ref, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrRegistry, ref, err)
}

func classifyStatus(ref string, terr *transport.Error) error {
	switch terr.StatusCode {
	case http.StatusNotFound:
		return fmt.Errorf("%w: %s not found", ErrNotFound, ref)
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w: %s: %w (check docker login or the credential helper)", ErrUnauthorized, ref, terr)
	}
	for _, d := range terr.Errors {
		if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
			return fmt.Errorf("%w: %s not found", ErrNotFound, ref)
		}
	}
	return fmt.Errorf("%w: %s: HTTP %d: %w", ErrRegistry, ref, terr.StatusCode, terr)
}
