package serve

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
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
	actionPull   = "pull"
	actionPush   = "push"
)

// access is one scope a token grants: a repository and its actions, or
// the registry catalog.
type access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// claims is what a token carries.
type claims struct {
	Subject  string   `json:"sub,omitempty"` // user of the htpasswd file; "" when none
	Profile  string   `json:"prf,omitempty"` // the login profile, for Basic users that name one
	Access   []access `json:"access,omitempty"`
	IssuedAt int64    `json:"iat"`
	Expires  int64    `json:"exp"`
}

// allows reports whether c grants action on the resource typ:name.
func (c *claims) allows(typ, name, action string) bool {
	for _, a := range c.Access {
		if a.Type == typ && a.Name == name && (slices.Contains(a.Actions, action) || slices.Contains(a.Actions, "*")) {
			return true
		}
	}
	return false
}

// tokens signs and checks tokens.
type tokens struct {
	key []byte
	now func() time.Time
}

// loadTokenKey reads <storage>/token.key, making it first if it is not
// there (atomically: a link of a complete temporary file, so concurrent
// starts agree on one key).
func loadTokenKey(storage string) ([]byte, error) {
	path := filepath.Join(storage, tokenKeyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := newTokenKey(storage, path); err != nil {
			return nil, fmt.Errorf("token key: %w", err)
		}
		key, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("token key %s: %d bytes, want 32 (delete it to make a new one)", path, len(key))
	}
	return key, nil
}

// newTokenKey writes 32 random bytes to path unless it exists.
func newTokenKey(storage, path string) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(storage, ".token.key-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(key)
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

func (t *tokens) mac(payload string) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte("tailor-token-v1."))
	m.Write([]byte(payload))
	return m.Sum(nil)
}

func (t *tokens) sign(c *claims) string {
	b, _ := json.Marshal(c)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(t.mac(payload))
}

var errBadToken = errors.New("invalid or expired token")

// verify checks a token's signature and expiry and returns its claims.
func (t *tokens) verify(tok string) (*claims, error) {
	payload, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return nil, errBadToken
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, t.mac(payload)) {
		return nil, errBadToken
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, errBadToken
	}
	c := &claims{}
	if err := json.Unmarshal(b, c); err != nil || t.now().Unix() >= c.Expires {
		return nil, errBadToken
	}
	return c, nil
}

// bearer is the token of r's Authorization header, "" when it has none.
func bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

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
		return "repository", rt.name, actionPull, "repository:" + rt.name + ":pull"
	}
	return "repository", rt.name, actionPush, "repository:" + rt.name + ":pull,push"
}

// authorize checks r's bearer token against what rt needs. On refusal it
// answers 401 with a Bearer challenge and returns nil.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, rt *route) *claims {
	typ, name, action, scope := needed(r, rt)
	tok := bearer(r)
	var c *claims
	var e *regError
	errParam := ""
	if tok == "" {
		e = newError(http.StatusUnauthorized, codeUnauthorized, "authentication required: get a token from "+tokenRealm(r), nil)
	} else if v, err := s.tokens.verify(tok); err != nil {
		e = newError(http.StatusUnauthorized, codeUnauthorized, "invalid or expired token: get a new one from "+tokenRealm(r), nil)
		errParam = "invalid_token"
	} else if typ != "" && !v.allows(typ, name, action) {
		msg := "insufficient scope: the token does not allow " + action + " on " + name
		if action == actionPush {
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
	e.write(w, r)
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
			newError(http.StatusBadRequest, codeUnsupported, "malformed token request", nil).write(w, r)
			return
		}
		if g := r.PostForm.Get("grant_type"); g != "password" {
			newError(http.StatusBadRequest, codeUnsupported, "unsupported grant_type (use password, or GET with Basic credentials)", g).write(w, r)
			return
		}
		user, pass = r.PostForm.Get("username"), r.PostForm.Get("password")
		hasAuth = user != ""
		scopes = r.PostForm["scope"]
	default:
		w.Header().Set("Allow", "GET, POST")
		newError(http.StatusMethodNotAllowed, codeUnsupported, "the token endpoint takes GET or POST", nil).write(w, r)
		return
	}
	svc := r.URL.Query().Get("service")
	if r.Method == http.MethodPost && r.PostForm.Get("service") != "" {
		svc = r.PostForm.Get("service")
	}
	if svc != "" && svc != tokenService {
		newError(http.StatusBadRequest, codeUnsupported, "unknown service: this token service is "+tokenService, nil).write(w, r)
		return
	}

	if hasAuth && user == "" && pass == "" {
		// podman sends empty Basic credentials when it has none: anonymous.
		hasAuth = false
	}
	c := &claims{}
	mayPush := false
	switch {
	case hasAuth && s.o.htpasswd.has(user):
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
			newError(http.StatusBadRequest, codeNameInvalid, "unknown or malformed profile in the "+ProfileHeader+" header", nil).write(w, r)
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
			if a, ok := grant(one, mayPush); ok {
				c.Access = append(c.Access, a)
			}
		}
	}
	now := s.tokens.now()
	c.IssuedAt, c.Expires = now.Unix(), now.Add(tokenTTL).Unix()
	tok := s.tokens.sign(c)
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
	e.write(w, r)
}

// grant is what a token may hold of one requested scope
// (type:name:actions): pull of any repository and the catalog for anyone,
// push too for users of the htpasswd file. Unknown types and actions are
// left out, as the spec says.
func grant(scope string, mayPush bool) (access, bool) {
	typ, rest, ok := strings.Cut(scope, ":")
	i := strings.LastIndex(rest, ":")
	if !ok || i <= 0 {
		return access{}, false
	}
	name, actions := rest[:i], strings.Split(rest[i+1:], ",")
	a := access{Type: typ, Name: name}
	switch {
	case typ == "registry" && name == "catalog" && slices.Contains(actions, "*"):
		a.Actions = []string{"*"}
	case typ == "repository":
		for _, act := range actions {
			switch {
			case act == actionPull || act == "*":
				a.Actions = append(a.Actions, actionPull)
			case act == actionPush && mayPush:
				a.Actions = append(a.Actions, actionPush)
			}
			if act == "*" && mayPush {
				a.Actions = append(a.Actions, actionPush)
			}
		}
		slices.Sort(a.Actions)
		a.Actions = slices.Compact(a.Actions)
	}
	return a, len(a.Actions) > 0
}
