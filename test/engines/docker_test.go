package engines

import (
	"strings"
	"testing"
)

// dockerPullRun pulls ref with dockerd 20.10 (pull options first), runs
// it and returns the target its program printed.
func dockerPullRun(t *testing.T, ref string, pullArgs ...string) string {
	t.Helper()
	_, _ = try(dockerEnv, docker, "rmi", "-f", ref)
	run(t, dockerEnv, docker, append(append([]string{"pull", "-q"}, pullArgs...), ref)...)
	return target(run(t, dockerEnv, docker, "run", "--rm", "--network", "none", ref))
}

// TestDockerPull: a plain pull through serve gets the entry the server's
// profile (cpu=x86_64_v4) chooses.
func TestDockerPull(t *testing.T) {
	need(t)
	if got := dockerPullRun(t, plain+"/probe:1"); got != "x86_64_v4" {
		t.Errorf("docker pull through serve ran %q, want x86_64_v4", got)
	}
}

// TestDockerPlatform: docker pull --platform gets the entry of that
// platform variant (docker 20.10 wants it exactly), or the tailored one
// for its own level and for no variant.
func TestDockerPlatform(t *testing.T) {
	need(t)
	for platform, want := range map[string]string{
		"linux/amd64/v2": "x86_64_v2",
		"linux/amd64/v3": "x86_64_v3",
		"linux/amd64/v4": "x86_64_v4",
		"linux/amd64":    "x86_64_v4",
	} {
		if got := dockerPullRun(t, plain+"/probe:1", "--platform", platform); got != want {
			t.Errorf("docker pull --platform %s ran %q, want %s", platform, got, want)
		}
	}
}

// TestDockerLoginProfile: docker login -u <profile> to a --login server
// gets that profile's build, and lower levels by --platform still.
func TestDockerLoginProfile(t *testing.T) {
	need(t)
	run(t, dockerEnv, docker, "login", login, "-u", "cpu=haswell", "-p", "x")
	defer func() { _, _ = try(dockerEnv, docker, "logout", login) }()
	if got := dockerPullRun(t, login+"/probe:1"); got != "haswell" {
		t.Errorf("docker login -u cpu=haswell, pull ran %q, want haswell", got)
	}
	if got := dockerPullRun(t, login+"/probe:1", "--platform", "linux/amd64/v2"); got != "x86_64_v2" {
		t.Errorf("docker login -u cpu=haswell, pull --platform linux/amd64/v2 ran %q, want x86_64_v2", got)
	}
	if got := dockerPullRun(t, login+"/probe:1", "--platform", "linux/amd64/v3"); got != "haswell" {
		t.Errorf("docker login -u cpu=haswell, pull --platform linux/amd64/v3 ran %q, want haswell (the profile's choice at its level)", got)
	}
}

// TestDockerMirror: with the registry-mirrors line of tailor mirror-config
// (in this dockerd's daemon.json), a Docker Hub pull goes through the
// mirror server (profile cpu=haswell), whose upstream docker.io is the
// plain server.
func TestDockerMirror(t *testing.T) {
	need(t)
	if got := dockerPullRun(t, "probe:1"); got != "haswell" {
		t.Errorf("docker pull probe:1 through the mirror ran %q, want haswell (the mirror's profile)", got)
	}
}

// TestTailorRunDocker: tailor run --engine docker resolves for its
// profile and runs the chosen entry by digest.
func TestTailorRunDocker(t *testing.T) {
	need(t)
	for profile, want := range map[string]string{"cpu=haswell": "haswell", "cpu=zen2": "x86_64_v3", "cpu=x86_64": "x86_64"} {
		out := run(t, dockerEnv, tailor, "run", "--engine", docker, "--profile", profile, "--run-arg=--network=none", plain+"/probe:1")
		if got := target(out); got != want {
			t.Errorf("tailor run --engine docker --profile %s ran %q, want %s\n%s", profile, got, want, out)
		}
	}
	if out, err := try(dockerEnv, tailor, "run", "--engine", docker, "--profile", "cpu=haswell", "--run-arg=--network=none", plain+"/probe:1", "--dry-run"); err != nil || !strings.Contains(out, "@sha256:") {
		t.Errorf("tailor run --dry-run: %v\n%s", err, out)
	}
}

// indexDigest is the digest of the probe's index as published (asked for
// untailored).
func indexDigest(t *testing.T, ref string) string {
	t.Helper()
	out := run(t, nil, tailor, "inspect", ref, "-o", "json")
	i := strings.Index(out, `"digest": "sha256:`)
	if i < 0 {
		t.Fatalf("tailor inspect -o json %s: no digest\n%s", ref, out)
	}
	return out[i+len(`"digest": "`) : i+len(`"digest": "`)+71]
}

// TestDockerPullByIndexDigest: a pull by the index's digest passes through
// serve untouched (README, "Pinned digests"): dockerd 20.10 takes the
// plain linux/amd64 entry, the generic one.
func TestDockerPullByIndexDigest(t *testing.T) {
	need(t)
	ref := plain + "/probe@" + indexDigest(t, plain+"/probe:1")
	if got := dockerPullRun(t, ref); got != "x86_64" {
		t.Errorf("docker 20.10 pull by index digest ran %q, want the generic x86_64", got)
	}
}
