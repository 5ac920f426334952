package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/requirement"
)

// runCLI runs tailor with args and returns its exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Execute(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// pushImage pushes a one-file image for arch to ref and returns its digest.
func pushImage(t *testing.T, ref, arch, content string) v1.Hash {
	t.Helper()
	img := registrytest.Image(t, v1.Platform{OS: "linux", Architecture: arch}, map[string]string{"app": content})
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	d, _ := img.Digest()
	return d
}

func fetchRaw(t *testing.T, ref string) ([]byte, v1.Hash) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(r)
	if err != nil {
		t.Fatalf("get %s: %v", ref, err)
	}
	return desc.Manifest, desc.Digest
}

func TestIndexCreate(t *testing.T) {
	host := registrytest.New(t, "")
	repo := host + "/app"
	gen := pushImage(t, repo+":generic", "amd64", "generic")
	pushImage(t, repo+":v3", "amd64", "v3")
	pushImage(t, host+"/other/skx:1", "amd64", "skx") // another repository: copied in
	pushImage(t, repo+":arm", "arm64", "arm")
	args := []string{"index", "create", repo + ":1.0",
		"--entry", repo + ":v3=cpu=x86_64_v3",
		"--entry", host + "/other/skx:1=cpu=skylake_avx512,cuda=sm_80+sm_90,requires=mpi=openmpi",
		"--entry", repo + ":generic",
		"--entry", repo + ":arm",
	}
	code, dry, stderr := runCLI(t, append(args, "--dry-run")...)
	if code != 0 {
		t.Fatalf("create --dry-run: exit %d: %s", code, stderr)
	}
	if _, err := remote.Head(mustRef(t, repo+":1.0")); err == nil {
		t.Fatalf("--dry-run pushed the index")
	}
	code, out, stderr := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, stderr)
	}
	raw, digest := fetchRaw(t, repo+":1.0")
	if string(raw) != dry {
		t.Errorf("pushed index differs from --dry-run output:\npushed:\n%s\ndry run:\n%s", raw, dry)
	}
	if strings.TrimSpace(out) != repo+"@"+digest.String() {
		t.Errorf("create printed %q, want %s@%s", out, repo, digest)
	}
	m, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if m.Manifests[0].Digest != gen {
		t.Errorf("first entry is %s, want the generic build %s", m.Manifests[0].Digest, gen)
	}
	wantTargets := []string{"", "", "x86_64_v3", "skylake_avx512"}
	wantVariants := []string{"", "", "v3", ""}
	for i, d := range m.Manifests {
		if got := d.Annotations[requirement.AnnotationCPUTarget]; got != wantTargets[i] {
			t.Errorf("entry %d target %q, want %q", i, got, wantTargets[i])
		}
		if d.Platform.Variant != wantVariants[i] {
			t.Errorf("entry %d variant %q, want %q", i, d.Platform.Variant, wantVariants[i])
		}
	}
	skx := m.Manifests[3]
	if skx.Annotations[requirement.AnnotationRequires] != "mpi=openmpi" || skx.Annotations[requirement.AnnotationCUDAArch] != "sm_80,sm_90" {
		t.Errorf("skx annotations = %v", skx.Annotations)
	}
	if _, err := remote.Head(mustRef(t, repo+"@"+skx.Digest.String())); err != nil {
		t.Errorf("entry from another repository was not copied in: %v", err)
	}
	// Resolving the pushed index picks what the requirements say.
	for spec, want := range map[string]int{
		"cpu=skylake_avx512,gpu=8.0,driver=550.54.14,label.mpi=openmpi": 3,
		"cpu=skylake_avx512": 2, // no GPU, no MPI: the x86_64_v3 build
		"cpu=haswell":        2,
		"cpu=nehalem":        0, // v2 host: only the generic build runs
		"cpu=neoverse_v2":    1,
	} {
		p, err := profile.ParseSpec(spec)
		if err != nil {
			t.Fatal(err)
		}
		best, _, err := match.Best(m.Manifests, p)
		if err != nil || best.Index != want {
			t.Errorf("match.Best(%s) = entry %d, %v; want entry %d", spec, best.Index, err, want)
		}
	}
}

func mustRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestIndexCreateRefuses(t *testing.T) {
	host := registrytest.New(t, "")
	repo := host + "/app"
	pushImage(t, repo+":a", "amd64", "a")
	pushImage(t, repo+":b", "amd64", "b")
	for name, tc := range map[string]struct {
		args []string
		says string
	}{
		"unknown target":    {[]string{"--entry", repo + ":a", "--entry", repo + ":b=cpu=pentium9000"}, "pentium9000"},
		"indistinguishable": {[]string{"--entry", repo + ":a=cpu=haswell", "--entry", repo + ":b=cpu=haswell"}, "tell apart"},
		"two generic":       {[]string{"--entry", repo + ":a", "--entry", repo + ":b"}, "tell apart"},
		"wrong arch":        {[]string{"--entry", repo + ":a=cpu=neoverse_v2"}, "neoverse_v2 is for arm64"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"index", "create", repo + ":bad"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.says) {
				t.Errorf("exit %d, stderr %q; want %d saying %q", code, stderr, exitUsage, tc.says)
			}
			if _, err := remote.Head(mustRef(t, repo+":bad")); err == nil {
				t.Errorf("an index was pushed")
			}
		})
	}
}

func TestIndexImportTags(t *testing.T) {
	host := registrytest.New(t, "")
	repo := host + "/app"
	gen := pushImage(t, repo+":generic", "amd64", "generic")
	pushImage(t, repo+":cpu-skylake_avx512", "amd64", "skx")
	pushImage(t, repo+":cpu_broadwell-nvcap_52", "amd64", "bdw")
	pushImage(t, repo+":1.2-x86-64-v3", "amd64", "v3")
	pushImage(t, repo+":cpu-pentium9000", "amd64", "p9000")
	pushImage(t, repo+":cpu-neoverse_v2", "amd64", "mislabelled")
	pushImage(t, repo+":old", "amd64", "old")
	code, dry, stderr := runCLI(t, "index", "import", repo+":latest", "--from", repo, "--dry-run")
	if code != 0 {
		t.Fatalf("import --dry-run: exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"recognised cpu_broadwell-nvcap_52", "cpu=broadwell,cuda=sm_52",
		"recognised 1.2-x86-64-v3", "recognised generic", "recognised cpu-skylake_avx512",
		"skipped    cpu-pentium9000", `unknown target "pentium9000"`,
		"skipped    cpu-neoverse_v2", "skipped    old",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("import report lacks %q:\n%s", want, stderr)
		}
	}
	code, _, stderr = runCLI(t, "index", "import", repo+":latest", "--from", repo)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	raw, _ := fetchRaw(t, repo+":latest")
	if string(raw) != dry {
		t.Errorf("pushed index differs from --dry-run output")
	}
	m, _ := v1.ParseIndexManifest(bytes.NewReader(raw))
	if len(m.Manifests) != 4 || m.Manifests[0].Digest != gen {
		t.Errorf("imported index has %d entries, first %s; want 4, generic first", len(m.Manifests), m.Manifests[0].Digest)
	}
	// Importing again sees the index tag "latest" and skips it.
	if code, _, stderr = runCLI(t, "index", "import", repo+":latest", "--from", repo, "--dry-run"); code != 0 || !strings.Contains(stderr, "skipped    latest") {
		t.Errorf("re-import: exit %d: %s", code, stderr)
	}
}

func TestIndexImportMetaHub(t *testing.T) {
	host := registrytest.New(t, "")
	repo := host + "/app"
	pushImage(t, repo+":generic", "amd64", "generic")
	bdw := pushImage(t, repo+":cpu_broadwell-nvcap_52", "amd64", "bdw")
	dir := t.TempDir()
	yml := filepath.Join(dir, "manifest.yml")
	os.WriteFile(yml, []byte(`image: `+repo+`:mh
manifests:
  - image: `+repo+`:cpu_broadwell-nvcap_52
    platform:
      architecture: amd64
      os: linux
      features: [cpu:broadwell, nvcap:5.2]
  - image: `+repo+`:generic
    platform: {architecture: amd64, os: linux}
`), 0o644)
	code, dry, stderr := runCLI(t, "index", "import", "--metahub", yml, "--dry-run")
	if code != 0 {
		t.Fatalf("import --metahub --dry-run: exit %d: %s", code, stderr)
	}
	if code, _, stderr = runCLI(t, "index", "import", "--metahub", yml); code != 0 {
		t.Fatalf("import --metahub: exit %d: %s", code, stderr)
	}
	raw, _ := fetchRaw(t, repo+":mh")
	if string(raw) != dry {
		t.Errorf("pushed index differs from --dry-run output")
	}
	m, _ := v1.ParseIndexManifest(bytes.NewReader(raw))
	e := m.Manifests[1]
	if e.Digest != bdw || e.Annotations[requirement.AnnotationCPUTarget] != "broadwell" || e.Annotations[requirement.AnnotationCUDAArch] != "sm_52" || len(e.Platform.Features) != 0 {
		t.Errorf("metahub entry = %+v", e)
	}

	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("image: "+repo+":bad\nmanifests:\n  - image: x\n    platfrom: {}\n"), 0o644)
	for _, f := range []string{bad, filepath.Join(dir, "missing.yml")} {
		code, _, stderr := runCLI(t, "index", "import", "--metahub", f)
		if code != exitUsage || !strings.Contains(stderr, "invalid manifest file") {
			t.Errorf("import --metahub %s: exit %d, %q", f, code, stderr)
		}
	}
	if _, err := remote.Head(mustRef(t, repo+":bad")); err == nil {
		t.Errorf("an index was pushed from an unreadable manifest.yml")
	}
}

func TestIndexAnnotate(t *testing.T) {
	host := registrytest.New(t, "")
	repo := host + "/app"
	pushImage(t, repo+":generic", "amd64", "generic")
	v3 := pushImage(t, repo+":v3", "amd64", "v3")
	if code, _, stderr := runCLI(t, "index", "create", repo+":1.0", "--entry", repo+":generic", "--entry", repo+":v3=cpu=x86_64_v3"); code != 0 {
		t.Fatalf("create: %s", stderr)
	}
	_, old := fetchRaw(t, repo+":1.0")
	code, out, stderr := runCLI(t, "index", "annotate", repo+":1.0", "--entry", v3.Hex[:10], "cpu=haswell,requires=mpi=openmpi")
	if code != 0 {
		t.Fatalf("annotate: exit %d: %s", code, stderr)
	}
	raw, now := fetchRaw(t, repo+":1.0")
	if strings.TrimSpace(out) != repo+"@"+now.String() || now == old {
		t.Errorf("annotate printed %q; tag now %s, was %s", out, now, old)
	}
	m, _ := v1.ParseIndexManifest(bytes.NewReader(raw))
	e := m.Manifests[1]
	if e.Annotations[requirement.AnnotationCPUTarget] != "haswell" || e.Platform.Variant != "" || e.Annotations[requirement.AnnotationRequires] != "mpi=openmpi" {
		t.Errorf("annotated entry = %+v %+v", e.Annotations, e.Platform)
	}
	if _, err := remote.Get(mustRef(t, repo+"@"+old.String())); err != nil {
		t.Errorf("old index no longer retrievable by digest: %v", err)
	}
	if code, _, stderr := runCLI(t, "index", "annotate", repo+":1.0", "--entry", "ffff", "cpu=haswell"); code != exitUsage || !strings.Contains(stderr, "no entry") {
		t.Errorf("annotate unknown digest: exit %d %q", code, stderr)
	}
}

// TestIndexCreateTimeout: --timeout bounds the whole command against a
// registry that accepts connections and never answers.
func TestIndexCreateTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	host := ln.Addr().String()
	_, errOut, code := run(t, "index", "create", host+"/app:1", "--entry", host+"/app:generic", "--timeout", "1s", "--retries", "0")
	if code != 1 || !strings.Contains(errOut, "timed out after 1s") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want exit 1 and one 'timed out after 1s' line", code, errOut)
	}
}

// TestIndexWarnings: publishing succeeds but says so when the index has no
// generic entry, or when an import recognised a single tag.
func TestIndexWarnings(t *testing.T) {
	host := registrytest.New(t, "")
	repo := host + "/app"
	pushImage(t, repo+":v3", "amd64", "v3")
	pushImage(t, repo+":cpu-zen4", "amd64", "zen4")
	pushImage(t, repo+":old", "amd64", "old")
	code, _, stderr := runCLI(t, "index", "create", repo+":1", "--entry", repo+":v3=cpu=x86_64_v3", "--entry", repo+":cpu-zen4=cpu=zen4")
	if code != 0 || !strings.Contains(stderr, "no entry is generic") {
		t.Errorf("create without a generic entry: exit %d, stderr %q; want 0 and a warning", code, stderr)
	}
	code, _, stderr = runCLI(t, "index", "import", repo+":2", "--from", repo, "--match", "^(cpu-zen4|old)$")
	if code != 0 || !strings.Contains(stderr, "only one tag follows a known convention") {
		t.Errorf("import of one recognised tag: exit %d, stderr %q; want 0 and a warning", code, stderr)
	}
	code, _, stderr = runCLI(t, "index", "create", repo+":3", "--entry", repo+":old", "--entry", repo+":v3=cpu=x86_64_v3")
	if code != 0 || strings.Contains(stderr, "WARN") {
		t.Errorf("create with a generic entry: exit %d, stderr %q; want no warning", code, stderr)
	}
}
