package build

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/internal/registrytest"
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

// TestBuildExampleToLayout builds the forces example into an OCI layout,
// unpacks every variant and checks the binary carries its target and runs
// where the CPU allows it.
func TestBuildExampleToLayout(t *testing.T) {
	needCC(t)
	res, err := Run(context.Background(), exampleConfig(t), WithParallelism(2), WithLogDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d, err := res.WriteLayout(dir, "1.0")
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	top, err := idx.ImageIndex(d.Digest)
	if err != nil {
		t.Fatal(err)
	}
	m, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	d, err := res.Push(context.Background(), host+"/forces:1.0")
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(host + "/forces:1.0")
	got, err := remote.Get(ref)
	if err != nil || got.Digest.String() != d.DigestStr() {
		t.Fatalf("index at tag: %v, %v; want %s", got, err, d)
	}
	raw, _ := res.Index.RawManifest()
	if string(got.Manifest) != string(raw) {
		t.Errorf("pushed index bytes differ from the built ones")
	}
}

// TestBuildReferenceParser checks the base image and the push are parsed
// with WithReferenceParser's function.
func TestBuildReferenceParser(t *testing.T) {
	needCC(t)
	host := registrytest.New(t, "")
	base := registrytest.Image(t, v1.Platform{OS: "linux", Architecture: "amd64"}, map[string]string{"etc/base": "base"})
	if err := remote.Write(mustParse(t, host+"/base:1"), base); err != nil {
		t.Fatal(err)
	}
	var parsed []string
	parse := func(s string) (name.Reference, error) {
		parsed = append(parsed, s)
		return name.ParseReference(s, name.Insecure)
	}
	c := exampleConfig(t)
	c.Targets, c.Base = []TargetSpec{{CPU: "x86_64"}}, host+"/base:1"
	res, err := Run(context.Background(), c, WithReferenceParser(parse), WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Push(context.Background(), host+"/forces:1"); err != nil {
		t.Fatal(err)
	}
	if want := []string{host + "/base:1", host + "/forces:1"}; strings.Join(parsed, " ") != strings.Join(want, " ") {
		t.Errorf("references parsed: %q, want %q", parsed, want)
	}
	if _, err := Run(context.Background(), c, WithTimeout(-time.Second)); err == nil {
		t.Error("Run with a negative timeout: no error")
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
			_, err := Run(context.Background(), c, WithParallelism(2), WithLogDir(t.TempDir()))
			if err == nil || !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Run: %v, want one line saying %q", err, tc.says)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Run: %v, want %v", err, tc.want)
			}
			var be *BuildError
			if tc.want == nil && (!errors.As(err, &be) || !strings.HasSuffix(be.Log, ".log")) {
				t.Errorf("Run: %v, want a BuildError with its log", err)
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
	if c.Base != "scratch" || c.Output != "out" || c.Context != "/src" {
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

func TestEnv(t *testing.T) {
	for _, tc := range []struct {
		target, cuda string
		want         []string
	}{
		{"x86_64_v3", "", []string{"CFLAGS=-march=x86-64-v3 -mtune=generic", "GOAMD64=v3", "TAILOR_TARGET=x86_64_v3", "GOARCH=amd64"}},
		{"x86_64", "sm_80", []string{"GOAMD64=v1", "CUDA_ARCH=sm_80"}},
		{"zen4", "", []string{"GOAMD64=v4"}},
		{"aarch64", "", []string{"GOARM64=v8.0", "GOARCH=arm64"}},
		{"neoverse_v2", "", []string{"GOARM64=v9.0"}},
	} {
		tg := catalog.MustLookup(tc.target)
		flags, _ := tg.CompilerFlags("gcc", "12.2.0")
		j := Job{Target: tg, Flags: flags, Compiler: Compiler{Path: "cc", Kind: "gcc", Version: "12.2.0"}}
		if tc.cuda != "" {
			a, _ := requirement.ParseCUDAArch(tc.cuda)
			j.Requirements.CUDA = []requirement.CUDAArch{a}
		}
		env := strings.Join(Env(j, nil), "\n")
		for _, w := range tc.want {
			if !strings.Contains(env, w+"\n") && !strings.HasSuffix(env, w) {
				t.Errorf("Env(%s) lacks %q:\n%s", tc.target, w, env)
			}
		}
	}
}

// TestEmitBake checks the bake file against what Run builds and Push
// would push: per target, the index entry's platform and dev.tailor.*
// annotations, and the build file's context.
func TestEmitBake(t *testing.T) {
	needCC(t)
	c := exampleConfig(t)
	c.Targets = c.Targets[:4]
	jobs, _, err := Plan(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := EmitBake(&b, c, jobs, "reg/forces:1.0"); err != nil {
		t.Fatal(err)
	}
	bake := b.String()
	for _, w := range []string{`group "default"`, `target "forces-x86_64_v3"`, `TAILOR_TARGET = "x86_64_v3"`,
		`CFLAGS = "-march=x86-64-v3 -mtune=generic"`, `"reg/forces:1.0-x86_64_v4"`,
		`context   = "../examples/forces/src"`,
		"#   tailor index create reg/forces:1.0 \\\n#     --entry reg/forces:1.0-x86_64 \\\n#     --entry reg/forces:1.0-x86_64_v2=cpu=x86_64_v2 \\"} {
		if !strings.Contains(bake, w) {
			t.Errorf("bake file lacks %q:\n%s", w, bake)
		}
	}
	res, err := Run(context.Background(), c, WithParallelism(2), WithLogDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	targets := bakeTargets(bake)
	for _, built := range res.Images {
		d := indexEntry(t, res, built)
		bt, ok := targets["forces-"+bakeName(built.Job.Label)]
		if !ok {
			t.Errorf("no bake target for %s", built.Job.Label)
			continue
		}
		if want := platformString(d.Platform); bt.platform != want {
			t.Errorf("bake target %s platform %q, the index has %q", built.Job.Label, bt.platform, want)
		}
		var want []string
		for _, k := range sortedKeys(d.Annotations) {
			if strings.HasPrefix(k, requirement.AnnotationPrefix) {
				want = append(want, "manifest-descriptor:"+k+"="+d.Annotations[k])
			}
		}
		if strings.Join(bt.annotations, " ") != strings.Join(want, " ") {
			t.Errorf("bake target %s annotations %q, the index has %q", built.Job.Label, bt.annotations, want)
		}
	}
	if len(targets) != len(res.Images) {
		t.Errorf("bake has %d targets, the build %d images", len(targets), len(res.Images))
	}
}

type bakeEntry struct {
	platform    string
	annotations []string
}

var (
	bakeTargetLine = regexp.MustCompile(`(?m)^target "([^"]+)" \{$`)
	bakeField      = regexp.MustCompile(`(?m)^  (platforms|annotations) += \[(.*)\]$`)
	bakeQuoted     = regexp.MustCompile(`"([^"]*)"`)
)

// bakeTargets reads the platform and annotations of each target of a bake
// file as EmitBake writes it.
func bakeTargets(bake string) map[string]bakeEntry {
	out := map[string]bakeEntry{}
	blocks := bakeTargetLine.FindAllStringSubmatchIndex(bake, -1)
	for i, m := range blocks {
		end := len(bake)
		if i+1 < len(blocks) {
			end = blocks[i+1][0]
		}
		var e bakeEntry
		for _, f := range bakeField.FindAllStringSubmatch(bake[m[1]:end], -1) {
			var vals []string
			for _, q := range bakeQuoted.FindAllStringSubmatch(f[2], -1) {
				vals = append(vals, q[1])
			}
			if f[1] == "platforms" {
				e.platform = strings.Join(vals, ",")
			} else {
				e.annotations = vals
			}
		}
		out[bake[m[2]:m[3]]] = e
	}
	return out
}

func indexEntry(t *testing.T, res *Result, b Built) v1.Descriptor {
	t.Helper()
	h, err := b.Image.Digest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range res.Index.Manifest.Manifests {
		if d.Digest == h {
			return d
		}
	}
	t.Fatalf("image %s of %s is not in the index", h, b.Job.Label)
	return v1.Descriptor{}
}

func platformString(p *v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
