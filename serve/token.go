package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/tailor-dev/tailor/serve/auth"
)

// The token flow (docker's "token authentication specification"), on when
// the server has an htpasswd file. Every registry request then needs a
// bearer token; one without a token (or with one that does not cover it)
// gets 401 and a challenge naming the token endpoint /token of this
// server. The endpoint issues pull tokens to anyone (to users whose Basic
// user name is a profile: carrying that profile; with --login only to
// them) and pull+push tokens to users of the htpasswd file. Clients decide
// how to authenticate from the /v2/ ping, so this is what makes docker,
// containerd, podman and skopeo send their credentials when pushing while
// pulls stay anonymous.
//
// Tokens are opaque to clients: base64url(JSON claims) "." base64url(
// HMAC-SHA256 of the claims). The key is 32 random bytes kept in
// <storage>/token.key (mode 0600, made on the first start), so tokens
// survive a restart and every server sharing the storage accepts the
// others' tokens. Delete the file and restart to invalidate every token.

const (
	tokenService = "tailor"
	tokenPath    = "/token"
	tokenKeyFile = "token.key"
	tokenTTL     = 5 * time.Minute
)

// tokenRealm is the URL of the token endpoint as the client reached this
// server: its Host header, https when the connection is TLS.
func tokenRealm(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + tokenPath
}

// needed is the scope a registry request needs ("" for the /v2/ ping,
// which any valid token passes) and the scope its challenge names.
func needed(r *http.Request, rt *route) (typ, name, action, scope string) {
	switch rt.kind {
	case routeBase:
		return "", "", "", ""
	case routeCatalog:
		return "registry", "catalog", "*", "registry:catalog:*"
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return "repository", rt.name, auth.ActionPull, "repository:" + rt.name + ":pull"
	}
	return "repository", rt.name, auth.ActionPush, "repository:" + rt.name + ":pull,push"
}

// authorize checks r's bearer token against what rt needs. On refusal it
// answers 401 with a Bearer challenge and returns nil.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, rt *route) *auth.Claims {
	typ, name, action, scope := needed(r, rt)
	tok := auth.Bearer(r)
	var c *auth.Claims
	var e *regError
	errParam := ""
	if tok == "" {
		e = newError(http.StatusUnauthorized, codeUnauthorized, "authentication required: get a token from "+tokenRealm(r), nil)
	} else if v, err := s.tokens.Verify(tok); err != nil {
		e = newError(http.StatusUnauthorized, codeUnauthorized, "invalid or expired token: get a new one from "+tokenRealm(r), nil)
		errParam = "invalid_token"
	} else if typ != "" && !v.Allows(typ, name, action) {
		msg := "insufficient scope: the token does not allow " + action + " on " + name
		if action == auth.ActionPush {
			msg += " (pushing needs the login of a user of the htpasswd file)"
		}
		e = newError(http.StatusUnauthorized, codeUnauthorized, msg, nil)
		errParam = "insufficient_scope"
	} else {
		c = v
	}
	if e == nil {
		return c
	}
	ch := fmt.Sprintf(`Bearer realm=%q,service=%q`, tokenRealm(r), tokenService)
	if scope != "" {
		ch += fmt.Sprintf(`,scope=%q`, scope)
	}
	if errParam != "" {
		ch += fmt.Sprintf(`,error=%q`, errParam)
	}
	w.Header().Set("WWW-Authenticate", ch)
	e.Write(w, r)
	return nil
}

// tokenResponse is the token endpoint's answer; token and access_token
// are the same (docker reads the first, OAuth2 clients the second).
type tokenResponse struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
}

// serveToken is the token endpoint: GET with optional HTTP Basic
// credentials and scope parameters (docker, podman, skopeo, ggcr), or an
// OAuth2 password grant by POST (containerd tries it first).
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	var user, pass string
	var hasAuth bool
	var scopes []string
	switch r.Method {
	case http.MethodGet:
		user, pass, hasAuth = r.BasicAuth()
		scopes = r.URL.Query()["scope"]
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			newError(http.StatusBadRequest, codeUnsupported, "malformed token request", nil).Write(w, r)
			return
		}
		if g := r.PostForm.Get("grant_type"); g != "password" {
			newError(http.StatusBadRequest, codeUnsupported, "unsupported grant_type (use password, or GET with Basic credentials)", g).Write(w, r)
			return
		}
		user, pass = r.PostForm.Get("username"), r.PostForm.Get("password")
		hasAuth = user != ""
		scopes = r.PostForm["scope"]
	default:
		w.Header().Set("Allow", "GET, POST")
		newError(http.StatusMethodNotAllowed, codeUnsupported, "the token endpoint takes GET or POST", nil).Write(w, r)
		return
	}
	svc := r.URL.Query().Get("service")
	if r.Method == http.MethodPost && r.PostForm.Get("service") != "" {
		svc = r.PostForm.Get("service")
	}
	if svc != "" && svc != tokenService {
		newError(http.StatusBadRequest, codeUnsupported, "unknown service: this token service is "+tokenService, nil).Write(w, r)
		return
	}

	if hasAuth && user == "" && pass == "" {
		// podman sends empty Basic credentials when it has none: anonymous.
		hasAuth = false
	}
	c := &auth.Claims{}
	mayPush := false
	switch {
	case hasAuth && s.o.htpasswd.Has(user):
		if e := s.checkLogin(r, user, pass); e != nil {
			s.refuseToken(w, r, e)
			return
		}
		c.Subject, mayPush = user, true
	case hasAuth:
		if _, err := s.namedProfile(user); err != nil {
			// Neither a user nor a profile: cost what a wrong password
			// costs, answer what it is answered.
			e := s.checkLogin(r, user, pass)
			if e == nil {
				e = newError(http.StatusUnauthorized, codeUnauthorized, loginRefused, nil)
			}
			s.refuseToken(w, r, e)
			return
		}
		c.Profile = user
	case r.Header.Get(ProfileHeader) != "":
		// A client that names its profile in the header (tailor's own)
		// made the choice --login asks for.
		p := r.Header.Get(ProfileHeader)
		if _, err := s.namedProfile(p); err != nil {
			newError(http.StatusBadRequest, codeNameInvalid, "unknown or malformed profile in the "+ProfileHeader+" header", nil).Write(w, r)
			return
		}
		c.Profile = p
	case s.o.login:
		s.refuseToken(w, r, newError(http.StatusUnauthorized, codeUnauthorized,
			"log in with a profile as user name (docker login -u cpu=zen3), or none for the untailored view", nil))
		return
	}
	for _, sc := range scopes {
		for _, one := range strings.Fields(sc) {
			if a, ok := auth.Grant(one, mayPush); ok {
				c.Access = append(c.Access, a)
			}
		}
	}
	now := s.tokens.Now()
	c.IssuedAt, c.Expires = now.Unix(), now.Add(tokenTTL).Unix()
	tok := s.tokens.Sign(c)
	body, _ := json.Marshal(tokenResponse{Token: tok, AccessToken: tok, ExpiresIn: int(tokenTTL / time.Second),
		IssuedAt: now.UTC().Format(time.RFC3339)})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

// refuseToken answers a refused login: a 401 challenges for Basic
// credentials again, a 429 says when to retry.
func (s *Server) refuseToken(w http.ResponseWriter, r *http.Request, e *regError) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", realm)
	}
	e.Write(w, r)
}
