package serve

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/crypto/bcrypt"
)

// writeHtpasswd writes an htpasswd file as `htpasswd -B` does.
func writeHtpasswd(t *testing.T, users map[string]string) string {
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
	// Refusals challenge, so clients that only send credentials when
	// asked (docker, containerd) retry with them.
	for _, user := range []string{"", "alice"} {
		req, _ := http.NewRequest(http.MethodPost, "http://"+srv+"/v2/team/other/blobs/uploads/", nil)
		if user != "" {
			req.SetBasicAuth(user, "wrong")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != realm {
			t.Errorf("push start as %q: %d, challenge %q; want 401 with %q", user, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), realm)
		}
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
