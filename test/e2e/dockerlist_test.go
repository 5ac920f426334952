package e2e

import (
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

// TestDockerManifestList resolves Docker manifest lists of Docker schema 2
// images, as docker buildx and older tools push them: one with tailor
// annotations on its descriptors, one with plain amd64/vN variants.
func TestDockerManifestList(t *testing.T) {
	for _, tt := range []struct {
		tag     string
		pushed  *resolvetest.Pushed
		profile string
		want    string
	}{
		{"annotated", dockerAnnotated, "cpu=haswell", "x86_64_v3"},
		{"annotated", dockerAnnotated, "cpu=sapphirerapids", "skylake_avx512"},
		{"annotated", dockerAnnotated, "cpu=zen4", "zen4"},
		{"annotated", dockerAnnotated, "cpu=haswell,gpu=9.0,driver=550.54.14", "cuda_sm90"},
		{"annotated", dockerAnnotated, "cpu=neoverse_v2", "arm64"},
		{"plain", dockerPlain, "cpu=core2", "generic"},
		{"plain", dockerPlain, "cpu=nehalem", "v2"},
		{"plain", dockerPlain, "cpu=haswell", "v3"},
		{"plain", dockerPlain, "cpu=zen4", "v4"},
		{"plain", dockerPlain, "cpu=neoverse_v2", "arm64"},
	} {
		t.Run(tt.tag+"/"+tt.profile, func(t *testing.T) {
			r := run(t, "resolve", host+"/dockerlist:"+tt.tag, "--profile", tt.profile)
			want := host + "/dockerlist@" + tt.pushed.Digests[tt.want].String() + "\n"
			if r.code != 0 || r.stdout != want || r.stderr != "" {
				t.Errorf("tailor resolve dockerlist:%s --profile %s = %q (exit %d, stderr %q), want %s %q", tt.tag, tt.profile, r.stdout, r.code, r.stderr, tt.want, want)
			}
		})
	}
}

func TestInspectDockerManifestList(t *testing.T) {
	r := run(t, "inspect", host+"/dockerlist:plain", "--targets", "core2,haswell,zen4,neoverse_v2")
	if r.code != 0 || !strings.Contains(r.stdout, "Docker manifest list of 5 entries, "+dockerPlain.Index.String()) {
		t.Fatalf("inspect dockerlist:plain: exit %d, stderr %q, stdout:\n%s", r.code, r.stderr, r.stdout)
	}
	for target, entry := range map[string]struct{ index, name string }{
		"core2": {"0", "generic"}, "haswell": {"2", "v3"}, "zen4": {"3", "v4"}, "neoverse_v2": {"4", "arm64"},
	} {
		short := dockerPlain.Digests[entry.name].Hex[:12]
		if !hasRow(r.stdout, target, entry.index, short) {
			t.Errorf("inspect: no row %s → %s %s (%s):\n%s", target, entry.index, short, entry.name, r.stdout)
		}
	}
	if !hasRow(r.stdout, "2", dockerPlain.Digests["v3"].Hex[:12], "linux/amd64/v3", "cpu=x86_64_v3") {
		t.Errorf("inspect: entry 2 not shown as linux/amd64/v3 needing x86_64_v3:\n%s", r.stdout)
	}
}

// hasRow reports whether out has a line whose fields start with fields
// (an arrow column, if any, ignored; digests matched by prefix).
func hasRow(out string, fields ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		got := strings.Fields(strings.ReplaceAll(line, "→", ""))
		if len(got) < len(fields) {
			continue
		}
		ok := true
		for i, f := range fields {
			if got[i] != f && !strings.HasSuffix(got[i], ":"+f) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
