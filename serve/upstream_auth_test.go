package serve

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/internal/logtest"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// tokenFront puts a real registry behind the anonymous bearer-token flow
// of Docker Hub and most public registries: /v2/ requests without the
// token get a Bearer challenge naming the token endpoint, which hands the
// token out to anyone asking for pull scope.
type tokenFront struct {
	next    http.Handler
	realm   string
	token   string
	hits    atomic.Int32
	mu      sync.Mutex
	scopes  []string
	noToken atomic.Int32 // /v2/ requests that came without the token
}

func (f *tokenFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		f.hits.Add(1)
		q := r.URL.Query()
		f.mu.Lock()
		f.scopes = append(f.scopes, q["scope"]...)
		f.mu.Unlock()
		if q.Get("service") != "x" {
			http.Error(w, "unknown service", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"token": f.token, "expires_in": 300})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		f.noToken.Add(1)
		scope := ""
		if repo, _, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/manifests/"); ok {
			scope = `,scope="repository:` + repo + `:pull"`
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+f.realm+`",service="x"`+scope)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
		return
	}
	f.next.ServeHTTP(w, r)
}

func TestUpstreamBearerToken(t *testing.T) {
	up := registrytest.New(t, "")
	pushIndex(t, up+"/team/app:v1", variantIndex(t, testVariants))
	target, _ := url.Parse("http://" + up)
	f := &tokenFront{next: httputil.NewSingleHostReverseProxy(target), token: "tok-" + t.Name()}
	fs := httptest.NewServer(f)
	t.Cleanup(fs.Close)
	f.realm = fs.URL + "/token"

	// The front really refuses anonymous pulls.
	if resp := get(t, fs.URL+"/v2/team/app/manifests/v1", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("front answered %d without a token, want 401", resp.StatusCode)
	}
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: fs.URL}), WithProfile(mustProfile(t, "cpu=haswell")))
	im, _ := fetchIndex(t, srv+"/team/app:v1")
	if !hasSelected(im.Manifests) {
		t.Errorf("index through a token-auth upstream not tailored: %+v", im.Manifests)
	}
	if got := readTarget(t, srv+"/team/app:v1", "amd64"); got != "haswell" {
		t.Errorf("pull through a token-auth upstream got %q, want haswell", got)
	}
	if f.hits.Load() == 0 {
		t.Fatal("the token endpoint was never asked")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.scopes {
		if s != "repository:team/app:pull" {
			t.Errorf("token asked for scope %q, want repository:team/app:pull only", s)
		}
	}
}

// basicFront lets through only requests with one user's Basic credentials.
type basicFront struct {
	next       http.Handler
	user, pass string
}

func (f *basicFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != f.user || p != f.pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="upstream"`)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
		return
	}
	f.next.ServeHTTP(w, r)
}

// writeDockerConfig writes a docker config.json with credentials for host.
func writeDockerConfig(t *testing.T, host, user, pass string) string {
	t.Helper()
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	cfg := map[string]any{"auths": map[string]any{host: map[string]string{"auth": auth}}}
	data, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestUpstreamDockerConfigCredentials(t *testing.T) {
	const user, pass = "puller", "s3cret-Pa55word"
	up := registrytest.New(t, "")
	pushIndex(t, up+"/app:v1", variantIndex(t, testVariants))
	target, _ := url.Parse("http://" + up)
	fs := httptest.NewServer(&basicFront{next: httputil.NewSingleHostReverseProxy(target), user: user, pass: pass})
	t.Cleanup(fs.Close)
	host := strings.TrimPrefix(fs.URL, "http://")
	secrets := []string{pass, base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}

	for _, c := range []struct {
		name   string
		config string // DOCKER_CONFIG
		ok     bool
	}{
		{"with credentials", writeDockerConfig(t, host, user, pass), true},
		{"wrong password", writeDockerConfig(t, host, user, "not-"+pass), false},
		{"no credentials", t.TempDir(), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("DOCKER_CONFIG", c.config)
			var logs logtest.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			_, srv := newTestServer(t, WithKeychain(authn.DefaultKeychain), WithLogger(logger),
				WithUpstreams(Upstream{Name: "up", URL: fs.URL}), WithProfile(mustProfile(t, "cpu=haswell")))
			var bodies bytes.Buffer
			if c.ok {
				if got := readTarget(t, srv+"/app:v1", "amd64"); got != "haswell" {
					t.Errorf("pull with docker config credentials got %q, want haswell", got)
				}
			} else {
				for _, path := range []string{"/v2/app/manifests/v1", "/v2/app/blobs/sha256:" + strings.Repeat("0", 64)} {
					resp := get(t, "http://"+srv+path, nil)
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					bodies.Write(body)
					var e struct {
						Errors []struct{ Code string } `json:"errors"`
					}
					_ = json.Unmarshal(body, &e)
					if resp.StatusCode != http.StatusForbidden || len(e.Errors) != 1 || e.Errors[0].Code != codeDenied {
						t.Errorf("GET %s: %d %s, want 403 DENIED", path, resp.StatusCode, body)
					}
				}
			}
			if logs.Len() == 0 {
				t.Fatal("nothing logged: the check below would prove nothing")
			}
			for _, s := range secrets {
				if strings.Contains(logs.String(), s) {
					t.Errorf("the logs contain the upstream password (%q):\n%s", s, logs.String())
				}
				if strings.Contains(bodies.String(), s) {
					t.Errorf("an answer contains the upstream password (%q): %s", s, bodies.String())
				}
			}
		})
	}
}

// hasSelected reports whether an index entry carries tailor's selection.
func hasSelected(ms []v1.Descriptor) bool {
	for _, m := range ms {
		if m.Annotations[AnnotationSelectedFrom] != "" {
			return true
		}
	}
	return false
}
