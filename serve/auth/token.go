package auth

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

	"github.com/tailor-dev/tailor/internal/durable"
)

// Tokens are opaque to clients: base64url(JSON claims) "." base64url(
// HMAC-SHA256 of the claims). The key is 32 random bytes kept in a file
// (mode 0600, made on the first start, LoadKey), so tokens survive a
// restart and every server sharing the file accepts the others' tokens.

// Token actions.
const (
	ActionPull = "pull"
	ActionPush = "push"
)

// Access is one scope a token grants: a repository and its actions, or
// the registry catalog.
type Access struct {
	Type    string   `json:"type"`
	Name    string   `json:"name"`
	Actions []string `json:"actions"`
}

// Claims is what a token carries.
type Claims struct {
	Subject  string   `json:"sub,omitempty"` // user of the htpasswd file; "" when none
	Profile  string   `json:"prf,omitempty"` // the login profile, for Basic users that name one
	Access   []Access `json:"access,omitempty"`
	IssuedAt int64    `json:"iat"`
	Expires  int64    `json:"exp"`
}

// Allows reports whether c grants action on the resource typ:name.
func (c *Claims) Allows(typ, name, action string) bool {
	for _, a := range c.Access {
		if a.Type == typ && a.Name == name && (slices.Contains(a.Actions, action) || slices.Contains(a.Actions, "*")) {
			return true
		}
	}
	return false
}

// Signer signs and verifies tokens with one key.
type Signer struct {
	key []byte
	now func() time.Time
}

// NewSigner returns a Signer of key (32 bytes) on clock now (nil:
// time.Now).
func NewSigner(key []byte, now func() time.Time) (*Signer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("token key: %d bytes, want 32", len(key))
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: key, now: now}, nil
}

// Now is the signer's clock.
func (t *Signer) Now() time.Time { return t.now() }

func (t *Signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte("tailor-token-v1."))
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// Sign makes c a token.
func (t *Signer) Sign(c *Claims) string {
	b, _ := json.Marshal(c)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(t.mac(payload))
}

// ErrBadToken is Verify's answer to a token it did not sign or that
// expired.
var ErrBadToken = errors.New("invalid or expired token")

// Verify checks a token's signature and expiry and returns its claims.
func (t *Signer) Verify(tok string) (*Claims, error) {
	payload, sig, ok := strings.Cut(tok, ".")
	if !ok {
		return nil, ErrBadToken
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, t.mac(payload)) {
		return nil, ErrBadToken
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, ErrBadToken
	}
	c := &Claims{}
	if err := json.Unmarshal(b, c); err != nil || t.now().Unix() >= c.Expires {
		return nil, ErrBadToken
	}
	return c, nil
}

// LoadKey reads the token key at path, making it first if it is not
// there: a complete, synced temporary file linked into place, so
// concurrent starts agree on one key.
func LoadKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := newKey(path); err != nil {
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

// newKey writes 32 random bytes to path unless it exists.
func newKey(path string) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
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
	return durable.OS.SyncDir(dir)
}

// Grant is what a token may hold of one requested scope
// (type:name:actions): pull of any repository and the catalog for
// anyone, push too when mayPush. Unknown types and actions are left out,
// as the spec says.
func Grant(scope string, mayPush bool) (Access, bool) {
	typ, rest, ok := strings.Cut(scope, ":")
	i := strings.LastIndex(rest, ":")
	if !ok || i <= 0 {
		return Access{}, false
	}
	name, actions := rest[:i], strings.Split(rest[i+1:], ",")
	a := Access{Type: typ, Name: name}
	switch {
	case typ == "registry" && name == "catalog" && slices.Contains(actions, "*"):
		a.Actions = []string{"*"}
	case typ == "repository":
		for _, act := range actions {
			switch {
			case act == ActionPull || act == "*":
				a.Actions = append(a.Actions, ActionPull)
			case act == ActionPush && mayPush:
				a.Actions = append(a.Actions, ActionPush)
			}
			if act == "*" && mayPush {
				a.Actions = append(a.Actions, ActionPush)
			}
		}
		slices.Sort(a.Actions)
		a.Actions = slices.Compact(a.Actions)
	}
	return a, len(a.Actions) > 0
}

// Bearer is the token of r's Authorization header, "" when it has none.
func Bearer(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
