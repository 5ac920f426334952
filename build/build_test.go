package build

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/requirement"
)

func needCC(t *testing.T) {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skip("the example matrix is x86-64")
	}
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("no C compiler")
	}
}

func exampleConfig(t *testing.T) *Config {
	t.Helper()
	c, err := Load("../examples/forces/tailor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// layoutIndex reads the index listed under tag in the layout at dir.
func layoutIndex(t *testing.T, dir, tag string) (v1.ImageIndex, *v1.IndexManifest) {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var found []v1.Descriptor
	for _, d := range im.Manifests {
		if d.Annotations[remote.AnnotationRefName] == tag {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s/index.json lists %d entries named %s, want 1: %+v", dir, len(found), tag, im.Manifests)
	}
	idx, err := top.ImageIndex(found[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	return idx, m
}

// TestBuildExampleToLayout builds the forces example into an OCI layout,
// unpacks every variant and checks the binary carries its target and runs
// where the CPU allows it; a second build into the same layout under the
// same tag replaces the first's name, with the same digest.
func TestBuildExampleToLayout(t *testing.T) {
	needCC(t)
	res, err := Run(context.Background(), exampleConfig(t), WithParallelism(2))
	t.Cleanup(func() { _ = res.Close() })
	if err != nil {
		t.Fatal(err)
	}
	if res.LogDir != "" {
		t.Errorf("LogDir = %q after a successful build without WithLogDir, want the logs removed", res.LogDir)
	}
	dir := t.TempDir()
	ref, err := res.Publish(context.Background(), "oci:"+dir+":1.0")
	if err != nil {
		t.Fatal(err)
	}
	if want := "oci:" + dir + "@" + res.Index.Digest().String(); ref != want {
		t.Errorf("Publish = %s, want %s", ref, want)
	}
	top, m := layoutIndex(t, dir, "1.0")
	want := []string{"x86_64", "x86_64_v2", "x86_64_v3", "x86_64_v4"}
	if len(m.Manifests) != len(want) {
		t.Fatalf("index has %d entries, want %d", len(m.Manifests), len(want))
	}
	host, _ := os.ReadFile("/proc/cpuinfo")
	for i, e := range m.Manifests {
		r, err := requirement.FromDescriptor(e)
		if err != nil {
			t.Fatal(err)
		}
		wantTarget := want[i]
		if wantTarget == "x86_64" {
			wantTarget = ""
		}
		if r.Target != wantTarget {
			t.Errorf("entry %d target %q, want %q", i, r.Target, wantTarget)
		}
		img, err := top.Image(e.Digest)
		if err != nil {
			t.Fatal(err)
		}
		bin := extract(t, img, "forces")
		if !strings.Contains(string(bin), want[i]) {
			t.Errorf("entry %d binary does not carry its target %q", i, want[i])
		}
		if canRun(string(host), want[i]) {
			path := filepath.Join(t.TempDir(), "forces")
			os.WriteFile(path, bin, 0o755)
			out, err := exec.Command(path, "256", "1").Output()
			if err != nil || !strings.HasPrefix(string(out), "target="+want[i]+" ") {
				t.Errorf("running the %s build: %q, %v", want[i], out, err)
			}
		}
	}
	again, err := Run(context.Background(), exampleConfig(t), WithParallelism(2))
	t.Cleanup(func() { _ = again.Close() })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Publish(context.Background(), "oci:"+dir+":1.0"); err != nil {
		t.Fatal(err)
	}
	if again.Index.Digest() != res.Index.Digest() {
		t.Errorf("rebuild gave index %s, the first build %s", again.Index.Digest(), res.Index.Digest())
	}
	layoutIndex(t, dir, "1.0") // one entry named 1.0, not two
}

// canRun reports whether this CPU has every feature of the level target.
func canRun(cpuinfo, target string) bool {
	t := catalog.MustLookup(target)
	for _, f := range t.FeatureList() {
		if !strings.Contains(cpuinfo, " "+f) {
			return false
		}
	}
	return true
}

func extract(t *testing.T, img v1.Image, file string) []byte {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no %s in image: %v", file, err)
		}
		if h.Name == file {
			b, _ := io.ReadAll(tr)
			return b
		}
	}
}

func TestBuildPushes(t *testing.T) {
	needCC(t)
	host := registrytest.New(t, "")
	c := exampleConfig(t)
	c.Targets = []TargetSpec{{CPU: "x86_64"}, {CPU: "x86_64_v3"}}
	res, err := Run(context.Background(), c, WithParallelism(2))
	t.Cleanup(func() { _ = res.Close() })
	if err != nil {
		t.Fatal(err)
	}
	d, err := res.Publish(context.Background(), host+"/forces:1.0")
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(host + "/forces:1.0")
	got, err := ggcr.Get(ref)
	if err != nil || host+"/forces@"+got.Digest.String() != d {
		t.Fatalf("index at tag: %v, %v; want %s", got, err, d)
	}
	raw, _ := res.Index.RawManifest()
	if string(got.Manifest) != string(raw) {
		t.Errorf("pushed index bytes differ from the built ones")
	}
}

// countingTransport counts the requests a client sends, by method.
type countingTransport struct {
	mu    sync.Mutex
	count map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.count[r.Method]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *countingTransport) get(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count[method]
}

// TestBuildClient checks the base image is fetched, and the images
// pushed, through WithClient's client.
func TestBuildClient(t *testing.T) {
	needCC(t)
	host := registrytest.New(t, "")
	base := registrytest.Image(t, v1.Platform{OS: "linux", Architecture: "amd64"}, map[string]string{"etc/base": "base"})
	if err := ggcr.Write(mustParse(t, host+"/base:1"), base); err != nil {
		t.Fatal(err)
	}
	ct := &countingTransport{count: map[string]int{}}
	client, err := remote.New(remote.WithTransport(ct))
	if err != nil {
		t.Fatal(err)
	}
	c := exampleConfig(t)
	c.Targets, c.Base = []TargetSpec{{CPU: "x86_64"}}, host+"/base:1"
	res, err := Run(context.Background(), c, WithClient(client))
	t.Cleanup(func() { _ = res.Close() })
	if err != nil {
		t.Fatal(err)
	}
	if ct.get(http.MethodGet) == 0 {
		t.Errorf("the base image was not fetched through the client")
	}
	if _, err := res.Publish(context.Background(), host+"/forces:1"); err != nil {
		t.Fatal(err)
	}
	if ct.get(http.MethodPut) == 0 {
		t.Errorf("nothing was pushed through the client")
	}
	img, err := ggcr.Image(mustParse(t, host+"/forces:1"), ggcr.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}))
	if err != nil {
		t.Fatal(err)
	}
	if string(extract(t, img, "etc/base")) != "base" || len(extract(t, img, "forces")) == 0 {
		t.Errorf("the pushed image lacks the base's file or the build's")
	}
	if _, err := Run(context.Background(), c, WithClient(nil)); err == nil {
		t.Error("Run with a nil client: no error")
	}
}

func mustParse(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBuildRefuses(t *testing.T) {
	needCC(t)
	host := registrytest.New(t, "")
	for name, tc := range map[string]struct {
		edit func(c *Config)
		want error
		says string
	}{
		"unknown target": {func(c *Config) { c.Targets = append(c.Targets, TargetSpec{CPU: "pentium9000"}) }, catalog.ErrUnknownTarget, "pentium9000"},
		"failing command": {func(c *Config) {
			c.Command = `if [ "$TAILOR_TARGET" = x86_64_v3 ]; then echo "forces.c:1: error: boom" >&2; exit 3; fi; ` + c.Command
		}, nil, "error: boom"},
		"missing base": {func(c *Config) { c.Base = host + "/no/such:image" }, ErrBase, "no/such"},
		"no compiler":  {func(c *Config) { c.Targets = []TargetSpec{{CPU: "neoverse_v2"}} }, ErrNoCompiler, "arm64"},
		"empty output": {func(c *Config) { c.Command = "true" }, nil, "left out empty"},
	} {
		t.Run(name, func(t *testing.T) {
			c := exampleConfig(t)
			c.Targets = c.Targets[:4]
			tc.edit(c)
			_, err := Run(context.Background(), c, WithParallelism(2))
			if err == nil || !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Run: %v, want one line saying %q", err, tc.says)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Run: %v, want %v", err, tc.want)
			}
			var be *BuildError
			if tc.want == nil {
				// Without WithLogDir the logs of a failed build stay, for it.
				if !errors.As(err, &be) || !strings.HasSuffix(be.Log, ".log") {
					t.Fatalf("Run: %v, want a BuildError with its log", err)
				}
				if _, err := os.Stat(be.Log); err != nil {
					t.Errorf("the log of the failed build: %v", err)
				}
				os.RemoveAll(filepath.Dir(be.Log))
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	c, err := Parse([]byte("name: x\ntargets: [x86_64_v3, host, 'cpu=x86_64,cuda=sm_80', {cpu: zen4, optional: true}]\ncommand: make\n"), "/src")
	if err != nil {
		t.Fatal(err)
	}
	want := []TargetSpec{{CPU: "x86_64_v3"}, {CPU: "host"}, {CPU: "x86_64", CUDA: "sm_80"}, {CPU: "zen4", Optional: true}}
	for i, w := range want {
		if c.Targets[i] != w {
			t.Errorf("target %d = %+v, want %+v", i, c.Targets[i], w)
		}
	}
	if c.Base != "scratch" || c.Output != "out" || c.Context != "/src" || c.IsStack() {
		t.Errorf("defaults: %+v", c)
	}
	for name, tc := range map[string]struct{ yaml, says string }{
		"unknown field": {"targets: [x86_64]\ncommand: make\ncomand: x\n", `unknown field "comand" on line 3`},
		"no command":    {"targets: [x86_64]\n", "no command"},
		"no targets":    {"command: make\n", "no targets"},
		"bad target":    {"targets: [{cpu: x, arch: y}]\ncommand: make\n", "arch"},
		"outside":       {"targets: [x86_64]\ncommand: make\noutput: ../x\n", "inside"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "/src")
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("Parse: %v, want ErrConfig saying %q", err, tc.says)
			}
		})
	}
}

func TestCPUEnv(t *testing.T) {
	for _, tc := range []struct {
		target, cuda string
		want         []string
	}{
		{"x86_64_v3", "", []string{"CFLAGS=-march=x86-64-v3 -mtune=generic", "GOAMD64=v3", "TAILOR_TARGET=x86_64_v3", "GOARCH=amd64", "AR=" + archiver("amd64")}},
		{"x86_64", "sm_80", []string{"GOAMD64=v1", "CUDA_ARCH=sm_80"}},
		{"zen4", "", []string{"GOAMD64=v4"}},
		{"aarch64", "", []string{"GOARM64=v8.0", "GOARCH=arm64", "AR=" + archiver("arm64")}},
		{"neoverse_v2", "", []string{"GOARM64=v9.0"}},
	} {
		tg := catalog.MustLookup(tc.target)
		flags, _ := tg.CompilerFlags("gcc", "12.2.0")
		var cuda []requirement.CUDAArch
		if tc.cuda != "" {
			a, _ := requirement.ParseCUDAArch(tc.cuda)
			cuda = []requirement.CUDAArch{a}
		}
		env := CPUEnv(tg, Compiler{Path: "cc", Kind: "gcc", Version: "12.2.0"}, flags, cuda)
		for _, w := range tc.want {
			if !contains(env, w) {
				t.Errorf("CPUEnv(%s) lacks %q:\n%s", tc.target, w, strings.Join(env, "\n"))
			}
		}
	}
	if runtime.GOARCH == "amd64" && (archiver("amd64") != "ar" || archiver("arm64") != "aarch64-linux-gnu-ar") {
		t.Errorf("archiver: %s, %s", archiver("amd64"), archiver("arm64"))
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func TestCUDAGencode(t *testing.T) {
	var archs []requirement.CUDAArch
	for _, s := range []string{"sm_80", "sm_90a", "compute_90"} {
		a, err := requirement.ParseCUDAArch(s)
		if err != nil {
			t.Fatal(err)
		}
		archs = append(archs, a)
	}
	want := "-gencode arch=compute_80,code=sm_80 -gencode arch=compute_90a,code=sm_90a -gencode arch=compute_90,code=compute_90"
	if got := CUDAGencode(archs); got != want {
		t.Errorf("CUDAGencode = %q\nwant %q", got, want)
	}
}

// TestNVCCRelease reads the version line of recorded nvcc --version outputs.
func TestNVCCRelease(t *testing.T) {
	for out, want := range map[string]string{
		"nvcc: NVIDIA (R) Cuda compiler driver\nCopyright (c) 2005-2024 NVIDIA Corporation\nBuilt on Thu_Mar_28_02:18:24_PDT_2024\nCuda compilation tools, release 12.4, V12.4.131\nBuild cuda_12.4.r12.4/compiler.34097967_0\n": "12.4",
		"Cuda compilation tools, release 11.8, V11.8.89\n": "11.8",
		"gcc (Debian 12.2.0-14) 12.2.0\n":                  "",
	} {
		got, ok := NVCCRelease([]byte(out))
		if got != want || ok != (want != "") {
			t.Errorf("NVCCRelease(%q) = %q, %v; want %q", firstLine([]byte(out)), got, ok, want)
		}
	}
}
