package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/requirement"
)

const forcesFile = "../../../examples/forces/tailor.yaml"

func needCC(t *testing.T) {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("the example matrix is x86-64")
	}
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("no C compiler")
	}
}

// buildFile writes a tailor.yaml building the forces example's sources
// (copied beside it: a build's context: stays inside the build file's
// directory) with the given fields, and returns its path.
func buildFile(t *testing.T, fields string) string {
	t.Helper()
	dir := t.TempDir()
	source, err := os.ReadFile("../../../examples/forces/src/forces.c")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "src", "forces.c"), source, 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := "name: forces\ncontext: src\nentrypoint: [/forces]\n" + fields
	if !strings.Contains(fields, "command:") {
		yaml += "command: $CC $CFLAGS -O3 -static -DTAILOR_TARGET=$TAILOR_TARGET -o $TAILOR_OUT/forces forces.c -lm\n"
	}
	path := filepath.Join(dir, "tailor.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// withCatalog lets the registry list up to 100 repositories (the
// distribution registry's catalog is empty when its maximum is 0).
func withCatalog(c *configuration.Configuration) { c.Catalog.MaxEntries = 100 }

// registryCatalog lists the repositories of the registry at host.
func registryCatalog(t *testing.T, host string) []string {
	t.Helper()
	reg, err := name.NewRegistry(host)
	if err != nil {
		t.Fatal(err)
	}
	repos, err := remote.CatalogPage(reg, "", 100, remote.WithContext(context.Background()))
	if err != nil {
		t.Fatalf("catalog of %s: %v", host, err)
	}
	return repos
}

// assertNothingPushed checks that no tag of repo exists, and, when the
// registry holds nothing else, that its catalog is empty.
func assertNothingPushed(t *testing.T, repo string, emptyCatalog bool) {
	t.Helper()
	r, err := name.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	if tags, err := remote.List(r); err == nil && len(tags) > 0 {
		t.Errorf("tags of %s after a failed build: %v, want none", repo, tags)
	}
	if emptyCatalog {
		if repos := registryCatalog(t, r.RegistryStr()); len(repos) != 0 {
			t.Errorf("catalog after a failed build: %v, want it empty", repos)
		}
	}
}

func TestBuildCommandToLayout(t *testing.T) {
	needCC(t)
	dir := filepath.Join(t.TempDir(), "forces")
	code, out, errs := runCLI(t, "build", "-f", forcesFile, "--dest", "oci:"+dir, "-j2", "--log-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("build: exit %d\n%s", code, errs)
	}
	if !strings.HasPrefix(out, "oci:"+dir+"@sha256:") || strings.Count(out, "\n") != 1 {
		t.Errorf("build stdout = %q, want oci:DIR@sha256:... alone", out)
	}
	if !strings.Contains(errs, "built 4 entries") {
		t.Errorf("build stderr lacks the summary:\n%s", errs)
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, _ := top.IndexManifest()
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "1.0" ||
		!strings.HasSuffix(strings.TrimSpace(out), im.Manifests[0].Digest.String()) {
		t.Fatalf("layout index.json = %+v, want the printed index tagged 1.0", im.Manifests)
	}
	idx, err := top.ImageIndex(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := idx.IndexManifest()
	want := []string{"", "x86_64_v2", "x86_64_v3", "x86_64_v4"}
	if len(m.Manifests) != len(want) {
		t.Fatalf("index has %d entries, want %d", len(m.Manifests), len(want))
	}
	for i, d := range m.Manifests {
		if got := d.Annotations[requirement.AnnotationCPUTarget]; got != want[i] {
			t.Errorf("entry %d target annotation %q, want %q", i, got, want[i])
		}
	}
}

func TestBuildCommandPush(t *testing.T) {
	needCC(t)
	host := registrytest.New(t, "", withCatalog)
	f := buildFile(t, "targets: [x86_64, x86_64_v3, zen4]\n")
	code, out, errs := runCLI(t, "build", "-f", f, "--dest", host+"/forces:1.0", "-j2")
	if code != 0 {
		t.Fatalf("build: exit %d\n%s", code, errs)
	}
	_, digest := fetchRaw(t, host+"/forces:1.0")
	if want := host + "/forces@" + digest.String() + "\n"; out != want {
		t.Errorf("build stdout = %q, want %q", out, want)
	}
	if repos := registryCatalog(t, host); len(repos) != 1 || repos[0] != "forces" {
		t.Errorf("catalog after the push = %v, want [forces]", repos)
	}
	for profile, target := range map[string]string{"cpu=haswell": "x86_64_v3", "cpu=zen4": "zen4", "cpu=core2": "x86_64"} {
		code, ref, errs := runCLI(t, "resolve", host+"/forces:1.0", "--profile", profile)
		if code != 0 {
			t.Fatalf("resolve --profile %s: exit %d: %s", profile, code, errs)
		}
		img, err := remote.Image(mustRef(t, strings.TrimSpace(ref)))
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil || cf.Config.Labels["dev.tailor.build.target"] != target {
			t.Errorf("resolve --profile %s gave the build for %q (%v), want %s", profile, cf.Config.Labels["dev.tailor.build.target"], err, target)
		}
	}
}

func TestBuildCommandBadInput(t *testing.T) {
	needCC(t)
	host := registrytest.New(t, "", withCatalog)
	dest := host + "/forces:1.0"
	for _, tc := range []struct {
		name, file string
		args       []string
		code       int
		says       string
		oneLine    bool
	}{
		{"unknown target", buildFile(t, "targets: [x86_64, pentium9000]\n"), nil, exitUsage, "pentium9000", true},
		{"failing command", buildFile(t, "targets: [x86_64, x86_64_v3]\ncommand: >-\n  echo 'forces.c:1: error: boom' >&2; exit 3\n"), nil, exitFailure, "error: boom", false},
		{"missing base", buildFile(t, "targets: [x86_64]\nbase: "+host+"/no/such:image\n"), nil, exitFailure, "no/such:image", true},
		{"no such file", filepath.Join(t.TempDir(), "tailor.yaml"), nil, exitUsage, "tailor.yaml", true},
		{"unreadable file", t.TempDir(), nil, exitUsage, "is a directory", true},
		{"unknown field", buildFile(t, "targets: [x86_64]\ncomand: x\n"), nil, exitUsage, `unknown field "comand"`, true},
		{"bad dest", forcesFile, []string{"--dest", "UPPER/Forces:1"}, exitUsage, "UPPER/Forces:1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"build", "-f", tc.file, "--dest", dest, "--log-dir", t.TempDir()}, tc.args...)
			code, out, errs := runCLI(t, args...)
			var errLines []string
			for _, l := range strings.Split(strings.TrimSpace(errs), "\n") {
				if strings.HasPrefix(l, "tailor: ") {
					errLines = append(errLines, l)
				}
			}
			if code != tc.code || out != "" || len(errLines) != 1 || !strings.Contains(errLines[0], tc.says) || strings.Contains(errs, "panic") {
				t.Errorf("build: exit %d, stdout %q, stderr:\n%s\nwant exit %d and one tailor: line saying %q", code, out, errs, tc.code, tc.says)
			}
			if tc.oneLine && strings.Count(errs, "\n") != 1 {
				t.Errorf("build: stderr has %d lines, want 1:\n%s", strings.Count(errs, "\n"), errs)
			}
			assertNothingPushed(t, host+"/forces", true)
		})
	}
}

// TestBuildCommandInsecureRegistry checks --insecure-registry reaches the
// base image fetch and the push: with it, plain HTTP is tried too.
func TestBuildCommandInsecureRegistry(t *testing.T) {
	needCC(t)
	const reg = "tailor-test.invalid:5000"
	for _, tc := range []struct {
		name, file, dest string
	}{
		{"base", buildFile(t, "targets: [x86_64]\nbase: "+reg+"/base:1\n"), "oci:" + t.TempDir()},
		{"push", buildFile(t, "targets: [x86_64]\n"), reg + "/forces:1"},
	} {
		for _, insecure := range []bool{false, true} {
			args := []string{"build", "-f", tc.file, "--dest", tc.dest, "--retries", "0"}
			if insecure {
				args = append(args, "--insecure-registry", reg)
			}
			code, _, errs := runCLI(t, args...)
			triedHTTP := strings.Contains(errs, `"http://`+reg)
			if code != exitFailure || !strings.Contains(errs, `"https://`+reg) || triedHTTP != insecure {
				t.Errorf("%s with insecure=%v: exit %d, stderr:\n%s\nwant https tried, and http only when insecure", tc.name, insecure, code, errs)
			}
		}
	}
}

// stallingProxy forwards to the registry at host but stalls the requests
// stall matches until the client gives up.
func stallingProxy(t *testing.T, host string, stall func(*http.Request) bool) string {
	t.Helper()
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: host})
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if stall(r) {
			// A request whose body is not read never sees its client
			// leave: the test's end releases it.
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // before srv.Close, which waits for handlers
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestBuildCommandTimeout checks --timeout bounds the base image fetch and
// each push, against a distribution registry behind a proxy that stalls.
func TestBuildCommandTimeout(t *testing.T) {
	needCC(t)
	host := registrytest.New(t, "")
	base := registrytest.Image(t, v1.Platform{OS: "linux", Architecture: "amd64"}, map[string]string{"etc/base": "base"})
	if err := remote.Write(mustRef(t, host+"/base:1"), base); err != nil {
		t.Fatal(err)
	}
	config, _ := base.ConfigName()
	stallConfig := stallingProxy(t, host, func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+config.String())
	})
	stallUploads := stallingProxy(t, host, func(r *http.Request) bool {
		return (r.Method == http.MethodPatch || r.Method == http.MethodPut) && strings.Contains(r.URL.Path, "/blobs/uploads/")
	})
	for _, tc := range []struct {
		name, file, dest, says string
	}{
		{"base", buildFile(t, "targets: [x86_64]\nbase: "+stallConfig+"/base:1\n"), "oci:" + t.TempDir(), "base image"},
		{"push", buildFile(t, "targets: [x86_64]\n"), stallUploads + "/forces:1", "pushing the x86_64 image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "build", "-f", tc.file, "--dest", tc.dest, "--timeout", "1s", "--retries", "0")
			last := errs[strings.LastIndex(strings.TrimSuffix(errs, "\n"), "\n")+1:]
			if code != exitFailure || out != "" || !strings.HasPrefix(last, "tailor: ") || !strings.Contains(last, tc.says) || !strings.Contains(last, "timed out after 1s") {
				t.Errorf("build from a stalling registry: exit %d, stdout %q, stderr:\n%s\nwant exit 1 and a last line saying %q timed out after 1s", code, out, errs, tc.says)
			}
		})
	}
	assertNothingPushed(t, host+"/forces", false)
}

func TestBuildCommandEmitBake(t *testing.T) {
	needCC(t)
	code, out, errs := runCLI(t, "build", "-f", forcesFile, "--emit-bake")
	if code != 0 {
		t.Fatalf("build --emit-bake: exit %d: %s", code, errs)
	}
	for _, want := range []string{`context   = "../../../examples/forces/src"`, `platforms = ["linux/amd64/v3"]`, `"localhost:5000/forces:1.0-x86_64_v3"`,
		`annotations = ["manifest-descriptor:dev.tailor.cpu.target=x86_64_v4"]`, "--entry localhost:5000/forces:1.0-x86_64 \\"} {
		if !strings.Contains(out, want) {
			t.Errorf("bake file lacks %q:\n%s", want, out)
		}
	}
	generic := out[strings.Index(out, `target "forces-x86_64"`):]
	generic = generic[:strings.Index(generic, "\n}\n")]
	if strings.Contains(generic, "annotations") || strings.Contains(generic, requirement.AnnotationCPUTarget) {
		t.Errorf("the generic target has annotations, which the index does not give it:\n%s", generic)
	}
	// Every image OCI, the generic one too (no annotations: BuildKit's
	// default would be Docker schema 2).
	if n, want := strings.Count(out, `output = ["type=image,oci-mediatypes=true"]`), strings.Count(out, "\ntarget "); n != want || n == 0 {
		t.Errorf("%d targets have the OCI output, want all %d:\n%s", n, want, out)
	}
	// --dest names where the images and the index go.
	code, out, errs = runCLI(t, "build", "-f", forcesFile, "--emit-bake", "--dest", "reg.example:5000/forces:2")
	if code != 0 || !strings.Contains(out, `tags = ["reg.example:5000/forces:2-x86_64_v3"]`) || !strings.Contains(out, "tailor index create reg.example:5000/forces:2 ") || strings.Contains(out, "localhost:5000") {
		t.Errorf("build --emit-bake --dest reg.example:5000/forces:2: exit %d %s\n%s", code, errs, out)
	}
	if code, _, errs = runCLI(t, "build", "-f", forcesFile, "--emit-bake", "--dest", "oci:"+t.TempDir()); code != exitUsage || !strings.Contains(errs, "bake pushes its images to a registry") {
		t.Errorf("build --emit-bake --dest oci:DIR: exit %d %s, want a usage error", code, errs)
	}
}

// TestBuildDatesImages: without SOURCE_DATE_EPOCH, images are dated by the
// last git commit of the build file's directory (here, the checkout's
// examples/forces), not 1970; SOURCE_DATE_EPOCH still decides when set.
func TestBuildDatesImages(t *testing.T) {
	needCC(t)
	out, err := exec.Command("git", "-C", filepath.Dir(forcesFile), "log", "-1", "--format=%ct", "--", ".").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Skipf("the checkout has no git history here: %v", err)
	}
	want, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	for _, tc := range []struct {
		env  string
		want int64
	}{{"", want}, {"86400", 86400}} {
		if tc.env != "" {
			t.Setenv("SOURCE_DATE_EPOCH", tc.env)
		}
		dir := filepath.Join(t.TempDir(), "l")
		if code, _, errs := runCLI(t, "build", "-f", forcesFile, "--dest", "oci:"+dir+":1", "--verify=false"); code != 0 {
			t.Fatalf("build: exit %d\n%s", code, errs)
		}
		lp, _ := layout.FromPath(dir)
		top, _ := lp.ImageIndex()
		tm, _ := top.IndexManifest()
		idx, _ := top.ImageIndex(tm.Manifests[0].Digest)
		im, _ := idx.IndexManifest()
		img, _ := idx.Image(im.Manifests[0].Digest)
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if got := cf.Created.Unix(); got != tc.want {
			t.Errorf("SOURCE_DATE_EPOCH=%q: image created %s, want %s", tc.env, cf.Created.UTC(), time.Unix(tc.want, 0).UTC())
		}
	}
}
