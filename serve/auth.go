package serve

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/serve/auth"
)

// realm is the HTTP Basic realm tailor challenges with.
const realm = `Basic realm="tailor"`

// ProfileHeader is the request header that names a client's profile, as
// the path prefix does; remote.Client sends ProfileNone in it.
const ProfileHeader = remote.ProfileHeader

// ProfileNone names the untailored view: every index as the backend has
// it, byte for byte (DESIGN.md §4).
const ProfileNone = remote.ProfileNone

// untailored is the profile of a client that asked for ProfileNone.
var untailored = &profile.Profile{}

// clientProfile finds the profile of a request: the path prefix
// /v2/_p/<name>/, else the Tailor-Profile header, else the login's user
// name (the Basic username, or the one the token was issued to when c is
// a token's claims), else the default. A named or spec'd profile that
// cannot be read is an error, never a silent default. The result is
// untailored for ProfileNone.
func (s *Server) clientProfile(r *http.Request, prefix string, c *auth.Claims) (*profile.Profile, *regError) {
	if prefix != "" {
		p, err := s.namedProfile(prefix)
		if err != nil {
			return nil, newError(http.StatusBadRequest, codeNameInvalid, "unknown or malformed profile in path /v2/_p/<profile>/", err.Error())
		}
		return p, nil
	}
	if h := r.Header.Get(ProfileHeader); h != "" {
		p, err := s.namedProfile(h)
		if err != nil {
			return nil, newError(http.StatusBadRequest, codeNameInvalid, "unknown or malformed profile in the "+ProfileHeader+" header", err.Error())
		}
		return p, nil
	}
	if c != nil { // the token flow: the token endpoint checked the login
		if c.Profile == "" {
			return s.o.profile, nil
		}
		p, err := s.namedProfile(c.Profile)
		if err != nil {
			return nil, newError(http.StatusBadRequest, codeNameInvalid, "the token's profile cannot be read", err.Error())
		}
		return p, nil
	}
	user, pass, hasAuth := r.BasicAuth()
	if hasAuth && user == "" && pass == "" {
		hasAuth = false // podman's empty credentials when it has none: anonymous
	}
	if hasAuth {
		if p, err := s.namedProfile(user); err == nil {
			return p, nil
		}
		if s.o.htpasswd == nil && s.o.login {
			// No users to hide: say what the name should have been.
			return nil, newError(http.StatusUnauthorized, codeUnauthorized, notAProfile(user), nil)
		}
		if e := s.checkLogin(r, user, pass); e != nil {
			return nil, e
		}
	} else if s.o.login {
		return nil, newError(http.StatusUnauthorized, codeUnauthorized,
			"log in with a profile as user name (docker login -u cpu=zen3), or none for the untailored view", nil)
	}
	return s.o.profile, nil // nil: no default; only tailoring needs one
}

// namedProfile is a profile of the config by name, ProfileNone, or a spec
// string (never a file: clients do not name files on the server). Specs
// are bounded in length and their parses cached in a bounded cache.
func (s *Server) namedProfile(n string) (*profile.Profile, error) {
	if n == ProfileNone {
		return untailored, nil
	}
	if p, ok := s.o.profiles[n]; ok {
		return p, nil
	}
	if len(n) > maxProfileLen {
		return nil, fmt.Errorf("%w: a profile spec has at most %d bytes", profile.ErrInvalid, maxProfileLen)
	}
	if !strings.Contains(n, "=") {
		return nil, fmt.Errorf("%w: %q is no profile of the config, no spec (cpu=...) and not %q", profile.ErrInvalid, n, ProfileNone)
	}
	if p, ok := s.specs.Get(n); ok {
		return p, nil
	}
	p, err := profile.ParseSpec(n)
	if err != nil {
		return nil, err
	}
	s.specs.Add(n, p)
	return p, nil
}

// canPush decides whether r may write to the embedded registry without
// the token flow (with an htpasswd file, tokens decide: see token.go):
// users of the htpasswd file when there is one, else anyone while the
// server listens on loopback only.
func (s *Server) canPush(r *http.Request) *regError {
	if s.o.htpasswd != nil {
		user, pass, ok := r.BasicAuth()
		if !ok {
			return newError(http.StatusUnauthorized, codeUnauthorized, "pushing needs the login of a user of the htpasswd file", nil)
		}
		return s.checkLogin(r, user, pass)
	}
	if s.loopbackOnly(r) {
		return nil
	}
	return newError(http.StatusForbidden, codeDenied, "pushes are refused: the server listens beyond loopback and has no --htpasswd", nil)
}

// loopbackOnly reports whether the server listens on loopback: the
// listener Run was given, else the connection's local address.
func (s *Server) loopbackOnly(r *http.Request) bool {
	if v := s.listenLoopback.Load(); v != 0 {
		return v == 1
	}
	a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	return ok && isLoopback(a)
}

func isLoopback(a net.Addr) bool {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
