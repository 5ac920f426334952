package serve

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestLoginHintsWithoutHtpasswd: with --login and no htpasswd file, the
// empty credentials podman sends when it has none are anonymous (told to
// log in with a profile), and a user name that is no profile is told so,
// not sent looking for htpasswd users that do not exist.
func TestLoginHintsWithoutHtpasswd(t *testing.T) {
	_, srv := newTestServer(t, WithLogin(true))
	for _, c := range []struct{ user, pass, want string }{
		{"", "", "log in with a profile as user name"},
		{"alice", "x", `user name \"alice\" is not a profile; this server has no users`},
		{"cpu=haswell", "x", ""},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+srv+"/v2/app/manifests/1", nil)
		req.SetBasicAuth(c.user, c.pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		buf := new(strings.Builder)
		_, _ = io.Copy(buf, resp.Body)
		resp.Body.Close()
		body := buf.String()
		if c.want == "" {
			if resp.StatusCode == http.StatusUnauthorized {
				t.Errorf("login as a profile %q: %d %s", c.user, resp.StatusCode, body)
			}
			continue
		}
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, c.want) || strings.Contains(body, "htpasswd file") {
			t.Errorf("login %q/%q: %d %s, want 401 saying %q", c.user, c.pass, resp.StatusCode, body, c.want)
		}
	}
}
