package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/tailor-dev/tailor/internal/logtest"
	"github.com/tailor-dev/tailor/serve/auth"
	"golang.org/x/crypto/bcrypt"
)

// writeHtpasswd writes an htpasswd file as `htpasswd -B` does.
func writeHtpasswd(t testing.TB, users map[string]string) string {
	t.Helper()
	var data []byte
	data = append(data, "# written by the test\n\n"...)
	for u, p := range users {
		h, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, u+":"+string(h)+"\n"...)
	}
	path := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHtpasswdPush(t *testing.T) {
	path := writeHtpasswd(t, map[string]string{"alice": "alice-pw", "bob": "bob-pw"})
	_, srv := newTestServer(t, WithHtpasswd(path), WithProfile(mustProfile(t, "cpu=haswell")))
	idx := variantIndex(t, testVariants)
	for _, c := range []struct {
		name   string
		auth   authn.Authenticator
		status int // 0: the push succeeds
	}{
		{"anonymous", authn.Anonymous, http.StatusUnauthorized},
		{"wrong password", &authn.Basic{Username: "alice", Password: "bob-pw"}, http.StatusUnauthorized},
		{"unknown user", &authn.Basic{Username: "carol", Password: "alice-pw"}, http.StatusUnauthorized},
		{"user of the file", &authn.Basic{Username: "alice", Password: "alice-pw"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			ref, _ := name.ParseReference(srv + "/team/app:v1")
			err := remote.WriteIndex(ref, idx, remote.WithAuth(c.auth))
			if c.status == 0 {
				if err != nil {
					t.Fatalf("push as a user of the htpasswd file: %v", err)
				}
				// Pulls stay anonymous.
				if got := readTarget(t, srv+"/team/app:v1", "amd64"); got != "haswell" {
					t.Errorf("anonymous pull after the push got %q, want haswell", got)
				}
				return
			}
			var te *transport.Error
			if !errors.As(err, &te) || te.StatusCode != c.status {
				t.Fatalf("push error %v, want HTTP %d", err, c.status)
			}
		})
	}
	// The ping challenges with the token flow, so clients that decide
	// how to authenticate from it (docker, skopeo, containerd) fetch a
	// token, with their credentials when they have some.
	resp := get(t, "http://"+srv+"/v2/", nil)
	resp.Body.Close()
	want := `Bearer realm="http://` + srv + `/token",service="tailor"`
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != want {
		t.Errorf("/v2/: %d, challenge %q; want 401 with %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), want)
	}
}

func TestHtpasswdFileErrors(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not bcrypt": "alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n",
		"no hash":    "alice\n",
	} {
		path := filepath.Join(dir, name)
		_ = os.WriteFile(path, []byte(content), 0o600)
		if _, err := New(WithStorage(t.TempDir()), WithHtpasswd(path)); err == nil {
			t.Errorf("htpasswd %q accepted, want an error", content)
		}
	}
	if _, err := New(WithStorage(t.TempDir()), WithHtpasswd(filepath.Join(dir, "missing"))); err == nil {
		t.Error("a missing htpasswd file accepted")
	}
}

// token asks srv's token endpoint for scopes, with Basic credentials
// unless user is "", and returns the token and the HTTP status.
func token(t *testing.T, srv, user, pass string, scopes ...string) (string, int) {
	t.Helper()
	q := url.Values{"service": {"tailor"}, "scope": scopes}
	req, _ := http.NewRequest(http.MethodGet, "http://"+srv+"/token?"+q.Encode(), nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
			t.Fatal(err)
		}
		if tr.Token == "" || tr.Token != tr.AccessToken || tr.ExpiresIn != 300 {
			t.Errorf("token response %+v: want token = access_token, expires_in 300", tr)
		}
		if at, err := time.Parse(time.RFC3339, tr.IssuedAt); err != nil || time.Since(at) > time.Minute {
			t.Errorf("issued_at %q", tr.IssuedAt)
		}
	}
	return tr.Token, resp.StatusCode
}

// withToken does method on url with a bearer token ("" none) and returns
// the status and the challenge.
func withToken(t *testing.T, method, url, tok string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

func TestTokenFlow(t *testing.T) {
	path := writeHtpasswd(t, map[string]string{"alice": "alice-pw"})
	var logs logtest.Buffer
	storage := t.TempDir()
	s, srv := newTestServer(t, WithHtpasswd(path), WithStorage(storage), WithProfile(mustProfile(t, "cpu=haswell")),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	alice := remote.WithAuth(&authn.Basic{Username: "alice", Password: "alice-pw"})
	pushIndexAuth(t, srv+"/team/app:v1", variantIndex(t, testVariants), alice)
	base := "http://" + srv + "/v2/team/app/"
	realmParams := `Bearer realm="http://` + srv + `/token",service="tailor"`

	t.Run("anonymous pull gets the tailored index", func(t *testing.T) {
		im, _ := fetchIndex(t, srv+"/team/app:v1")
		if !hasSelected(im.Manifests) {
			t.Errorf("anonymous pull not tailored: %+v", im.Manifests)
		}
		if got := readTarget(t, srv+"/team/app:v1", "amd64"); got != "haswell" {
			t.Errorf("anonymous pull got %q, want haswell", got)
		}
		code, ch := withToken(t, http.MethodGet, base+"manifests/v1", "")
		if want := realmParams + `,scope="repository:team/app:pull"`; code != http.StatusUnauthorized || ch != want {
			t.Errorf("pull without a token: %d %q, want 401 %q", code, ch, want)
		}
	})
	t.Run("wrong password at the token endpoint", func(t *testing.T) {
		for _, u := range [][2]string{{"alice", "wrong"}, {"carol", "alice-pw"}} {
			if _, code := token(t, srv, u[0], u[1], "repository:team/app:pull,push"); code != http.StatusUnauthorized {
				t.Errorf("token for %s/%s: %d, want 401", u[0], u[1], code)
			}
		}
	})
	t.Run("anonymous push", func(t *testing.T) {
		ref, _ := name.ParseReference(srv + "/team/anon:v1")
		var te *transport.Error
		if err := remote.WriteIndex(ref, variantIndex(t, testVariants)); !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
			t.Errorf("anonymous push: %v, want HTTP 401", err)
		}
	})
	t.Run("pull token used to push", func(t *testing.T) {
		tok, code := token(t, srv, "", "", "repository:team/app:pull,push")
		if code != http.StatusOK {
			t.Fatalf("anonymous token: %d", code)
		}
		if code, _ := withToken(t, http.MethodGet, base+"tags/list", tok); code != http.StatusOK {
			t.Errorf("pull with an anonymous token: %d", code)
		}
		code, ch := withToken(t, http.MethodPost, base+"blobs/uploads/", tok)
		want := realmParams + `,scope="repository:team/app:pull,push",error="insufficient_scope"`
		if code != http.StatusUnauthorized || ch != want {
			t.Errorf("push with a pull token: %d %q, want 401 %q", code, ch, want)
		}
		// A push token is for its repository only.
		tok, _ = token(t, srv, "alice", "alice-pw", "repository:team/app:pull,push")
		if code, _ := withToken(t, http.MethodPost, base+"blobs/uploads/", tok); code != http.StatusAccepted {
			t.Errorf("push start with alice's token: %d, want 202", code)
		}
		if code, _ := withToken(t, http.MethodPost, "http://"+srv+"/v2/team/other/blobs/uploads/", tok); code != http.StatusUnauthorized {
			t.Errorf("push to another repository: %d, want 401", code)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		c := &auth.Claims{Subject: "alice", Access: []auth.Access{{Type: "repository", Name: "team/app", Actions: []string{"pull", "push"}}},
			IssuedAt: time.Now().Add(-time.Hour).Unix(), Expires: time.Now().Add(-time.Minute).Unix()}
		code, ch := withToken(t, http.MethodGet, base+"manifests/v1", s.tokens.Sign(c))
		if want := realmParams + `,scope="repository:team/app:pull",error="invalid_token"`; code != http.StatusUnauthorized || ch != want {
			t.Errorf("expired token: %d %q, want 401 %q", code, ch, want)
		}
	})
	t.Run("token of another key", func(t *testing.T) {
		c := &auth.Claims{Subject: "alice", Access: []auth.Access{{Type: "repository", Name: "team/app", Actions: []string{"pull", "push"}}},
			IssuedAt: time.Now().Unix(), Expires: time.Now().Add(time.Minute).Unix()}
		other, _ := auth.NewSigner(bytes.Repeat([]byte{7}, 32), nil)
		if code, _ := withToken(t, http.MethodGet, base+"manifests/v1", other.Sign(c)); code != http.StatusUnauthorized {
			t.Errorf("token of another key: %d, want 401", code)
		}
		good := s.tokens.Sign(c)
		if code, _ := withToken(t, http.MethodGet, base+"manifests/v1", good+"x"); code != http.StatusUnauthorized {
			t.Errorf("tampered token: %d, want 401", code)
		}
		if code, _ := withToken(t, http.MethodGet, base+"manifests/v1", good); code != http.StatusOK {
			t.Errorf("good token: %d, want 200", code)
		}
	})
	t.Run("tokens survive a restart", func(t *testing.T) {
		tok, _ := token(t, srv, "alice", "alice-pw", "repository:team/app:pull")
		_, srv2 := newTestServer(t, WithHtpasswd(path), WithStorage(storage))
		if code, _ := withToken(t, http.MethodGet, "http://"+srv2+"/v2/team/app/tags/list", tok); code != http.StatusOK {
			t.Errorf("token of the previous process: %d, want 200", code)
		}
		if fi, err := os.Stat(filepath.Join(storage, tokenKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("token key file: %v %v, want mode 0600", fi, err)
		}
	})
	t.Run("OAuth2 password grant", func(t *testing.T) { // containerd's first try
		resp, err := http.PostForm("http://"+srv+"/token", url.Values{"grant_type": {"password"}, "service": {"tailor"},
			"username": {"alice"}, "password": {"alice-pw"}, "scope": {"repository:team/app:pull,push"}, "client_id": {"containerd"}})
		if err != nil {
			t.Fatal(err)
		}
		var tr tokenResponse
		_ = json.NewDecoder(resp.Body).Decode(&tr)
		resp.Body.Close()
		if code, _ := withToken(t, http.MethodPost, base+"blobs/uploads/", tr.AccessToken); resp.StatusCode != 200 || code != http.StatusAccepted {
			t.Errorf("password grant %d, push start with its token %d", resp.StatusCode, code)
		}
		resp, _ = http.PostForm("http://"+srv+"/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"x"}})
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("password grant with a wrong password: %d, want 401", resp.StatusCode)
		}
	})
	t.Run("catalog and profile prefix", func(t *testing.T) {
		code, ch := withToken(t, http.MethodGet, "http://"+srv+"/v2/_catalog", "")
		if code != http.StatusUnauthorized || !strings.Contains(ch, `scope="registry:catalog:*"`) {
			t.Errorf("catalog without a token: %d %q", code, ch)
		}
		tok, _ := token(t, srv, "", "", "registry:catalog:*", "repository:team/app:pull")
		if code, _ := withToken(t, http.MethodGet, "http://"+srv+"/v2/_catalog", tok); code != http.StatusOK {
			t.Errorf("catalog with a token: %d", code)
		}
		if code, _ := withToken(t, http.MethodGet, "http://"+srv+"/v2/_p/cpu=skylake_avx512/team/app/manifests/v1", tok); code != http.StatusOK {
			t.Errorf("profile prefix with a token: %d", code)
		}
	})
	if pw := "alice-pw"; strings.Contains(logs.String(), pw) || strings.Contains(logs.String(), "Bearer") || strings.Contains(logs.String(), "scope=") {
		t.Errorf("logs hold a password, token or query:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "path=/token") {
		t.Errorf("no request log of the token endpoint:\n%s", logs.String())
	}
}

func TestTokenRealmTLS(t *testing.T) {
	path := writeHtpasswd(t, map[string]string{"alice": "alice-pw"})
	s, err := New(WithStorage(t.TempDir()), WithHtpasswd(path))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "https://reg.example:8443/v2/", nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if want := `Bearer realm="https://reg.example:8443/token",service="tailor"`; w.Code != 401 || w.Header().Get("WWW-Authenticate") != want {
		t.Errorf("/v2/ over TLS: %d %q, want 401 %q", w.Code, w.Header().Get("WWW-Authenticate"), want)
	}
}

// TestTokenLogin: --login with --htpasswd. The token endpoint refuses
// anonymous clients, gives a pull token carrying the profile to a Basic
// user name that is a profile, and pull+push to users of the file.
func TestTokenLogin(t *testing.T) {
	path := writeHtpasswd(t, map[string]string{"alice": "alice-pw"})
	_, srv := newTestServer(t, WithHtpasswd(path), WithLogin(true), WithProfile(mustProfile(t, "cpu=haswell")))
	pushIndexAuth(t, srv+"/app:v1", variantIndex(t, testVariants), remote.WithAuth(&authn.Basic{Username: "alice", Password: "alice-pw"}))
	if _, code := token(t, srv, "", "", "repository:app:pull"); code != http.StatusUnauthorized {
		t.Errorf("anonymous token with --login: %d, want 401", code)
	}
	zen := remote.WithAuth(&authn.Basic{Username: "cpu=skylake_avx512", Password: "x"})
	if got := readTarget(t, srv+"/app:v1", "amd64", zen); got != "skylake_avx512" {
		t.Errorf("pull with a profile login got %q, want skylake_avx512", got)
	}
	if got := readTarget(t, srv+"/app:v1", "amd64", remote.WithAuth(&authn.Basic{Username: "alice", Password: "alice-pw"})); got != "haswell" {
		t.Errorf("pull as alice got %q, want the default haswell", got)
	}
	ref, _ := name.ParseReference(srv + "/app:v2")
	var te *transport.Error
	if err := remote.WriteIndex(ref, variantIndex(t, testVariants), zen); !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
		t.Errorf("push with a profile login: %v, want HTTP 401", err)
	}
	if _, code := token(t, srv, "nobody", "x", "repository:app:pull"); code != http.StatusUnauthorized {
		t.Errorf("token for a user that is no profile: %d, want 401", code)
	}
}

func pushIndexAuth(t testing.TB, ref string, idx v1.ImageIndex, opts ...remote.Option) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx, opts...); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}
