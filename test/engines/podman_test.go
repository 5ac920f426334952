package engines

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// podmanPullRun pulls ref with podman (pull options first), runs it and
// returns the target its program printed.
func podmanPullRun(t *testing.T, env []string, ref string, pullArgs ...string) string {
	t.Helper()
	env = append(append([]string{}, podmanEnv...), env...)
	_, _ = try(env, "podman", "rmi", "-f", ref)
	run(t, env, "podman", append(append([]string{"pull", "-q"}, pullArgs...), ref)...)
	return target(run(t, env, "podman", "run", "--rm", ref))
}

// TestPodmanPull: a plain pull through serve gets the entry the server's
// profile chooses.
func TestPodmanPull(t *testing.T) {
	need(t)
	if got := podmanPullRun(t, nil, plain+"/probe:1", "--tls-verify=false"); got != "x86_64_v4" {
		t.Errorf("podman pull through serve ran %q, want x86_64_v4", got)
	}
}

// TestPodmanPlatform: podman pull --platform gets that platform variant's
// entry.
func TestPodmanPlatform(t *testing.T) {
	need(t)
	for platform, want := range map[string]string{
		"linux/amd64/v2": "x86_64_v2",
		"linux/amd64/v3": "x86_64_v3",
		"linux/amd64/v4": "x86_64_v4",
		"linux/amd64":    "x86_64_v4",
	} {
		if got := podmanPullRun(t, nil, plain+"/probe:1", "--tls-verify=false", "--platform", platform); got != want {
			t.Errorf("podman pull --platform %s ran %q, want %s", platform, got, want)
		}
	}
}

// TestPodmanLogin: podman with no credentials (it sends empty ones) is
// told to log in with a profile; podman login -u <profile> gets that
// profile's build.
func TestPodmanLogin(t *testing.T) {
	need(t)
	out, err := try(podmanEnv, "podman", "pull", "-q", "--tls-verify=false", login+"/probe:1")
	if err == nil || !strings.Contains(out, "log in with a profile as user name") {
		t.Errorf("anonymous podman pull from a --login server: %v, want a refusal that says to log in with a profile\n%s", err, out)
	}
	run(t, podmanEnv, "podman", "login", "--tls-verify=false", "-u", "cpu=haswell", "-p", "x", login)
	defer func() { _, _ = try(podmanEnv, "podman", "logout", login) }()
	if got := podmanPullRun(t, nil, login+"/probe:1", "--tls-verify=false"); got != "haswell" {
		t.Errorf("podman login -u cpu=haswell, pull ran %q, want haswell", got)
	}
}

// TestPodmanMirror: with the registries.conf tailor mirror-config writes,
// podman pulls docker.io and a registry with a port through the mirror
// server (profile cpu=haswell): the first registry is its default
// upstream, the second is picked by its path element.
func TestPodmanMirror(t *testing.T) {
	need(t)
	conf := run(t, nil, tailor, "mirror-config", "--for", "podman", "--server", "http://"+mirror, "docker.io", "reg.local:5443")
	path := filepath.Join(t.TempDir(), "registries.conf")
	if err := os.WriteFile(path, []byte("unqualified-search-registries = []\n"+conf), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"CONTAINERS_REGISTRIES_CONF=" + path}
	for _, ref := range []string{"docker.io/library/probe:1", "reg.local:5443/probe:1"} {
		if got := podmanPullRun(t, env, ref); got != "haswell" {
			t.Errorf("podman pull %s through the mirror ran %q, want haswell (the mirror's profile)\n%s", ref, got, conf)
		}
	}
	// A server without upstreams mirrors the one registry it stands for:
	// its repositories are reached without a prefix.
	conf = run(t, nil, tailor, "mirror-config", "--for", "podman", "--server", "http://"+plain, "docker.io")
	if err := os.WriteFile(path, []byte("unqualified-search-registries = []\n"+conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := podmanPullRun(t, env, "docker.io/library/probe:1"); got != "x86_64_v4" {
		t.Errorf("podman pull docker.io/library/probe:1 through a server without upstreams ran %q, want x86_64_v4\n%s", got, conf)
	}
}

// TestTailorRunPodman: tailor run --engine podman against a plain-HTTP
// loopback server tells podman so (--tls-verify=false).
func TestTailorRunPodman(t *testing.T) {
	need(t)
	for profile, want := range map[string]string{"cpu=haswell": "haswell", "cpu=zen2": "x86_64_v3"} {
		out := run(t, podmanEnv, tailor, "run", "--engine", "podman", "--profile", profile, plain+"/probe:1")
		if got := target(out); got != want {
			t.Errorf("tailor run --engine podman --profile %s ran %q, want %s\n%s", profile, got, want, out)
		}
	}
}

// TestPodmanPullByIndexDigest: podman 4.3 takes the first linux/amd64
// entry of the untouched index, the generic one.
func TestPodmanPullByIndexDigest(t *testing.T) {
	need(t)
	ref := plain + "/probe@" + indexDigest(t, plain+"/probe:1")
	if got := podmanPullRun(t, nil, ref, "--tls-verify=false"); got != "x86_64" {
		t.Errorf("podman pull by index digest ran %q, want the generic x86_64", got)
	}
}
