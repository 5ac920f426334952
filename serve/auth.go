package serve

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/tailor-dev/tailor/profile"
	"golang.org/x/crypto/bcrypt"
)

// realm is the HTTP Basic realm tailor challenges with.
const realm = `Basic realm="tailor"`

// htpasswd holds bcrypt password hashes by user, as `htpasswd -B` writes.
type htpasswd map[string][]byte

func loadHtpasswd(path string) (htpasswd, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("htpasswd: %w", err)
	}
	h := htpasswd{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		user, hash, ok := strings.Cut(t, ":")
		if !ok || user == "" || !strings.HasPrefix(hash, "$2") {
			return nil, fmt.Errorf("htpasswd %s:%d: want user:bcrypt-hash (htpasswd -B)", path, line)
		}
		h[user] = []byte(hash)
	}
	return h, sc.Err()
}

func (h htpasswd) valid(user, pass string) bool {
	hash, ok := h[user]
	return ok && bcrypt.CompareHashAndPassword(hash, []byte(pass)) == nil
}

// clientProfile finds the profile of a request: the path prefix
// /v2/_p/<name>/, else the login's user name (the Basic username, or the
// one the token was issued to when c is a token's claims), else the
// default. A named or spec'd profile that cannot be read is an error,
// never a silent default.
func (s *Server) clientProfile(r *http.Request, prefix string, c *claims) (*profile.Profile, *regError) {
	if prefix != "" {
		p, err := s.namedProfile(prefix)
		if err != nil {
			return nil, newError(http.StatusBadRequest, codeNameInvalid, "unknown or malformed profile in path /v2/_p/"+prefix+"/", err.Error())
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
	if hasAuth {
		if p, err := s.namedProfile(user); err == nil {
			return p, nil
		} else if !s.o.htpasswd.valid(user, pass) {
			return nil, newError(http.StatusUnauthorized, codeUnauthorized,
				"login user is not a profile: use a profile name of the config or a spec such as cpu=zen3,gpu=8.0", err.Error())
		}
	} else if s.o.login {
		return nil, newError(http.StatusUnauthorized, codeUnauthorized,
			"log in with a profile as user name (docker login -u cpu=zen3)", nil)
	}
	return s.o.profile, nil // nil: no default; only tailoring needs one
}

// namedProfile is a profile of the config by name, or a spec string
// (never a file: clients do not name files on the server).
func (s *Server) namedProfile(n string) (*profile.Profile, error) {
	if p, ok := s.o.profiles[n]; ok {
		return p, nil
	}
	if !strings.Contains(n, "=") {
		return nil, fmt.Errorf("%w: %q is no profile of the config and no spec (cpu=...)", profile.ErrInvalid, n)
	}
	if v, ok := s.specs.Load(n); ok {
		return v.(*profile.Profile), nil
	}
	p, err := profile.ParseSpec(n)
	if err != nil {
		return nil, err
	}
	s.specs.Store(n, p)
	return p, nil
}

// canPush decides whether r may write to the embedded registry without
// the token flow (with an htpasswd file, tokens decide: see token.go):
// users of the htpasswd file when there is one, else anyone while the
// server listens on loopback only.
func (s *Server) canPush(r *http.Request) *regError {
	if s.o.htpasswd != nil {
		if user, pass, ok := r.BasicAuth(); ok && s.o.htpasswd.valid(user, pass) {
			return nil
		}
		return newError(http.StatusUnauthorized, codeUnauthorized, "pushing needs the login of a user of the htpasswd file", nil)
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
