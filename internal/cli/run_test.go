package cli

import "testing"

func TestShellQuote(t *testing.T) {
	for _, tt := range []struct {
		argv []string
		want string
	}{
		{[]string{"docker", "run", "--rm", "host:5000/app@sha256:ab"}, "docker run --rm host:5000/app@sha256:ab"},
		{[]string{"podman", "run", "-e=A=b c", "x", "it's", ""}, `podman run '-e=A=b c' x 'it'\''s' ''`},
	} {
		if got := shellQuote(tt.argv); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.argv, got, tt.want)
		}
	}
}

func TestFindEngine(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, _, err := findEngine("", false); err == nil {
		t.Error("findEngine with no engine on PATH: no error")
	}
	if e, _, err := findEngine("", true); err != nil || e != "docker" {
		t.Errorf("findEngine for a dry run = %q, %v; want docker", e, err)
	}
	if _, _, err := findEngine("nerdctl", false); exitCode(err) != exitUsage {
		t.Errorf("findEngine(nerdctl) not on PATH = %v, want a usage error", err)
	}
}
