package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

func TestResolveProfiles(t *testing.T) {
	for _, tt := range []struct{ profile, want string }{
		{"cpu=haswell", "x86_64_v3"},
		{"cpu=sapphirerapids", "skylake_avx512"},
		{"cpu=zen4", "zen4"},
		{"cpu=core2", "generic"},
		{"cpu=neoverse_v2", "arm64"},
		{"cpu=haswell,gpu=9.0,driver=550.54.14", "cuda_sm90"},
	} {
		t.Run(tt.profile, func(t *testing.T) {
			r := run(t, "resolve", host+"/app:1", "--profile", tt.profile)
			want := host + "/app@" + app.Digests[tt.want].String() + "\n"
			if r.code != 0 || r.stdout != want || r.stderr != "" {
				t.Errorf("tailor resolve --profile %s = %q (exit %d, stderr %q), want %q", tt.profile, r.stdout, r.code, r.stderr, want)
			}
		})
	}
}

func TestResolveByDigest(t *testing.T) {
	r := run(t, "resolve", host+"/app@"+app.Index.String(), "--profile", "cpu=zen4")
	if want := host + "/app@" + app.Digests["zen4"].String() + "\n"; r.stdout != want {
		t.Errorf("resolve by index digest = %q (%s), want %q", r.stdout, r.stderr, want)
	}
	single := host + "/app@" + app.Digests["generic"].String()
	if r := run(t, "resolve", single, "--profile", "cpu=zen4"); r.stdout != single+"\n" {
		t.Errorf("resolve of a single image = %q (%s), want itself", r.stdout, r.stderr)
	}
}

func TestResolveExplainAndJSON(t *testing.T) {
	r := run(t, "resolve", host+"/app:1", "--profile", "cpu=zen4", "--explain")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	want := host + "/app@" + app.Digests["zen4"].String()
	if r.code != 0 || !strings.HasPrefix(lines[0], "RANK") || lines[len(lines)-1] != want ||
		!strings.Contains(r.stdout, "does not fit") || len(lines) != 2+6+1 {
		t.Errorf("resolve --explain =\n%s(exit %d, %s)", r.stdout, r.code, r.stderr)
	}
	r = run(t, "resolve", host+"/app:1", "--profile", "cpu=zen4", "-o", "json")
	var doc struct {
		Reference  string            `json:"reference"`
		Digest     string            `json:"digest"`
		Index      string            `json:"index"`
		Profile    map[string]any    `json:"profile"`
		Candidates []json.RawMessage `json:"candidates"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("resolve -o json: %v\n%s", err, r.stdout)
	}
	if doc.Reference != want || doc.Index != app.Index.String() || len(doc.Candidates) != 6 || doc.Profile == nil {
		t.Errorf("resolve -o json = %+v", doc)
	}
}

func TestResolveNoMatch(t *testing.T) {
	r := run(t, "resolve", host+"/gpuonly:1", "--profile", "cpu=zen4")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "no entry of the index fits") || !strings.Contains(r.stderr, "sm_90") {
		t.Errorf("resolve with no fitting entry: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestBadInput(t *testing.T) {
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
		_, _ = w.Write([]byte("<html>not a manifest</html>"))
	}))
	defer notJSON.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"malformed reference", []string{"resolve", "UPPER/App:1"}, 2, "parse reference"},
		{"bad profile", []string{"resolve", host + "/app:1", "--profile", "cpu=pentium9000"}, 2, "pentium9000"},
		{"unreachable", []string{"resolve", strings.TrimPrefix(closed.URL, "http://") + "/app:1", "--profile", "cpu=zen4"}, 1, "registry unreachable"},
		{"404", []string{"resolve", host + "/missing:1", "--profile", "cpu=zen4"}, 1, "not found"},
		{"not JSON", []string{"resolve", strings.TrimPrefix(notJSON.URL, "http://") + "/app:1", "--profile", "cpu=zen4"}, 1, "not JSON"},
		{"unknown target", []string{"resolve", host + "/bad:unknown-target", "--profile", "cpu=zen4"}, 2, "pentium9000"},
		{"bad CUDA arch", []string{"resolve", host + "/bad:bad-cuda", "--profile", "cpu=zen4"}, 2, "sm_9x"},
		{"bad dest", []string{"pull", host + "/app:1", "--profile", "cpu=zen4", "--dest", "tape:/dev/st0"}, 2, "tape"},
		{"bad output", []string{"inspect", host + "/app:1", "-o", "yaml"}, 2, "yaml"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.args...)
			if r.code != tt.code || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tt.want) ||
				strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine") || r.stdout != "" {
				t.Errorf("tailor %v: exit %d, stdout %q, stderr %q; want exit %d and one line with %q", tt.args, r.code, r.stdout, r.stderr, tt.code, tt.want)
			}
		})
	}
}

func TestPullOCI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	r := run(t, "pull", host+"/app:1", "--profile", "cpu=sapphirerapids", "--dest", "oci:"+dir+":v1")
	want := app.Digests["skylake_avx512"]
	if r.code != 0 || !strings.Contains(r.stdout, want.String()) || !strings.Contains(r.stderr, "100%") {
		t.Fatalf("pull: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := lp.ImageIndex()
	im, err := idx.IndexManifest()
	if err != nil || len(im.Manifests) != 1 || im.Manifests[0].Digest != want || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "v1" {
		t.Errorf("layout index = %+v, %v; want %s tagged v1", im, err, want)
	}
}

func TestRunDryRun(t *testing.T) {
	r := run(t, "run", host+"/app:1", "--profile", "cpu=zen4", "--engine", "podman", "--dry-run", "--run-arg=-e=A=b c", "--", "--threads", "8")
	// The registry is loopback, plain HTTP: podman is told so.
	want := "podman run --rm --tls-verify=false '-e=A=b c' " + host + "/app@" + app.Digests["zen4"].String() + " --threads 8\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("run --dry-run = %q (exit %d, %s), want %q", r.stdout, r.code, r.stderr, want)
	}
}

func TestInspect(t *testing.T) {
	r := run(t, "inspect", host+"/app:1", "--targets", "haswell,zen4,power9le")
	for _, want := range []string{"cpu=zen4", "haswell", "(no fitting entry)", app.Digests["zen4"].Hex[:12]} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
}
