package build

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/stack"
)

// writeStack writes files (path: content) and a tailor.yaml into a new
// directory and parses it.
func writeStack(t *testing.T, yaml string, files map[string]string) *Config {
	t.Helper()
	dir := t.TempDir()
	files["tailor.yaml"] = yaml
	for p, content := range files {
		path := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := Load(filepath.Join(dir, "tailor.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseStack(t *testing.T) {
	c, err := Parse([]byte(`
axes:
  phase: [train, {value: serve, requires: none}]
  cpu: [x86_64_v3, {cpu: zen4, optional: true}]
  cuda: [none, {name: cu124, arch: sm_80+sm_90, version: "12.4", optional: true}]
  rocm: [gfx90a+gfx942]
  fabric: [{value: ib, requires: "fabric=infiniband,mpi=openmpi"}]
components:
  - {name: base, image: "oci:/images/base:1"}
  - {name: conf, varies: [phase], dir: "conf/${phase}", prefix: /etc/app}
  - {name: app, varies: [cpu, phase], uses: [conf], command: make}
exclude:
  - {cpu: zen4, cuda: "*"}
`), "/src")
	if err != nil {
		t.Fatal(err)
	}
	if !c.IsStack() || c.Name != "src" {
		t.Errorf("IsStack %v, name %q", c.IsStack(), c.Name)
	}
	a := c.Axes
	if len(a.CPU) != 2 || a.CPU[1] != (TargetSpec{CPU: "zen4", Optional: true}) {
		t.Errorf("cpu = %+v", a.CPU)
	}
	if len(a.CUDA) != 2 || a.CUDA[0] != (GPUValue{Name: "none"}) || a.CUDA[1] != (GPUValue{Name: "cu124", Arch: "sm_80+sm_90", Version: "12.4", Optional: true}) {
		t.Errorf("cuda = %+v", a.CUDA)
	}
	if len(a.ROCm) != 1 || a.ROCm[0].Name != "gfx90a+gfx942" || !slices.Equal(a.ROCm[0].archs(), []string{"gfx90a", "gfx942"}) {
		t.Errorf("rocm = %+v", a.ROCm)
	}
	if len(a.Labels) != 2 || a.Labels[0].Name != "fabric" || a.Labels[1].Name != "phase" || a.Labels[1].Values[1] != (LabelValue{Value: "serve", Requires: "none"}) {
		t.Errorf("label axes = %+v, want fabric then phase", a.Labels)
	}
	comps := c.Components
	if comps[0].Kind() != KindImage || comps[1].Kind() != KindDir || comps[1].Dir != "/src/conf/${phase}" || comps[2].Kind() != KindCommand ||
		comps[2].Context != "/src" || comps[2].Output != "out" || comps[2].Prefix != "/" {
		t.Errorf("components = %+v", comps)
	}
	if len(c.Exclude) != 1 || !slices.Equal(c.Exclude[0]["cuda"], []string{"*"}) {
		t.Errorf("exclude = %+v", c.Exclude)
	}
	for _, r := range []struct {
		v    LabelValue
		want string
	}{{LabelValue{Value: "ucx"}, "requires=fabric=ucx"}, {LabelValue{Value: "tcp", Requires: "none"}, "generic"}, {LabelValue{Value: "ib", Requires: "fabric=infiniband,mpi=openmpi"}, "requires=fabric=infiniband+mpi=openmpi"}} {
		got, err := labelRequirements("fabric", r.v)
		if err != nil || got.String() != r.want {
			t.Errorf("labelRequirements(%+v) = %s, %v; want %s", r.v, got, err, r.want)
		}
	}
}

func TestParseStackRefuses(t *testing.T) {
	const axes = "axes: {cpu: [x86_64], phase: [a, b]}\n"
	for name, tc := range map[string]struct{ yaml, says string }{
		"targets too":        {axes + "targets: [x86_64]\ncomponents: [{name: a, command: x}]\n", "takes no targets"},
		"no components":      {axes, "both axes: and components:"},
		"two kinds":          {axes + "components: [{name: a, dir: d, command: x}]\n", "exactly one of"},
		"no kind":            {axes + "components: [{name: a}]\n", "exactly one of"},
		"image not first":    {axes + "components: [{name: a, dir: d}, {name: b, image: debian}]\n", "list it first"},
		"image with context": {axes + "components: [{name: b, image: debian, context: x}]\n", "takes only name"},
		"dir with output":    {axes + "components: [{name: a, dir: d, output: o}]\n", "copied as is"},
		"uses later":         {axes + "components: [{name: a, command: x, uses: [b]}, {name: b, dir: d}]\n", "no earlier component"},
		"uses wider":         {axes + "components: [{name: a, dir: 'd/${phase}', varies: [phase]}, {name: b, command: x, uses: [a]}]\n", "must vary on phase"},
		"uses image":         {axes + "components: [{name: a, image: debian}, {name: b, command: x, uses: [a]}]\n", "an image"},
		"unvaried subst":     {axes + "components: [{name: a, dir: 'd/${phase}'}]\n", "${phase}"},
		"bad axis name":      {"axes: {Fabric: [a]}\ncomponents: [{name: a, command: x}]\n", "lower-case"},
		"reserved axis":      {"axes: {target: [a]}\ncomponents: [{name: a, command: x}]\n", "lower-case word"},
		"bad component name": {axes + "components: [{name: 'A B', command: x}]\n", "name"},
		"twice":              {axes + "components: [{name: a, command: x}, {name: a, command: y}]\n", "listed twice"},
		"unknown field":      {axes + "components:\n  - name: a\n    comand: x\n", `unknown field "comand" on line 4`},
		"output outside":     {axes + "components: [{name: a, command: x, output: ../o}]\n", "inside"},
		"bad gpu value":      {"axes: {cuda: [{arch: sm_80, vers: 1}]}\ncomponents: [{name: a, command: x}]\n", "vers"},
		"bad exclude":        {axes + "components: [{name: a, command: x}]\nexclude: [{cpu: {a: b}}]\n", "exclude"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "/src")
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Parse: %v, want one line of ErrConfig saying %q", err, tc.says)
			}
		})
	}
}

// TestPlanRefuses checks what only planning can see: values and rules
// against the axes, requirements.
func TestPlanRefuses(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, says string }{
		"cuda in a cpu value": {"axes: {cpu: ['cpu=x86_64,cuda=sm_80']}\ncomponents: [{name: a, dir: d}]\n", "CUDA is an axis of its own"},
		"varies on no axis":   {"axes: {cpu: [x86_64]}\ncomponents: [{name: a, dir: d, varies: [phase]}]\n", "no axis"},
		"rule on no value":    {"axes: {cpu: [x86_64], phase: [a]}\ncomponents: [{name: a, dir: d}]\nexclude: [{phase: z}]\n", `no value "z"`},
		"bad requires":        {"axes: {cpu: [x86_64], phase: [{value: a, requires: 'x'}]}\ncomponents: [{name: a, dir: d}]\n", "requires"},
		"bad cuda arch":       {"axes: {cpu: [x86_64], cuda: [sm_8x]}\ncomponents: [{name: a, dir: d}]\n", "sm_8x"},
		"indistinguishable":   {"axes: {cpu: [x86_64], phase: [{value: a, requires: none}, {value: b, requires: none}]}\ncomponents: [{name: a, dir: d}]\n", "tell them apart"},
		"unknown target":      {"axes: {cpu: [pentium9000]}\ncomponents: [{name: a, dir: d}]\n", "pentium9000"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			_, err = NewPlan(context.Background(), c)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.says) || strings.Contains(err.Error(), "\n") {
				t.Errorf("NewPlan: %v, want one line of ErrConfig saying %q", err, tc.says)
			}
		})
	}
}

// files reads every regular file of img's filesystem.
func files(t *testing.T, img v1.Image) map[string]string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	out := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			out[h.Name] = string(b)
		}
	}
}

// TestStackUses builds a library per CPU value and a program per CPU and
// phase that reads the library from $TAILOR_ROOT, with -j3 so builds wait
// for what they use.
func TestStackUses(t *testing.T) {
	needCC(t)
	c := writeStack(t, `
axes:
  cpu: [x86_64, x86_64_v3]
  phase: [train, {value: serve, requires: none}]
components:
  - {name: conf, varies: [phase], dir: "conf/${phase}", prefix: /etc/app}
  - name: lib
    varies: [cpu]
    prefix: /opt/lib
    command: sleep 0.2; echo "lib for $TAILOR_TARGET" > $TAILOR_OUT/lib.txt
  - name: app
    varies: [cpu, phase]
    uses: [lib, conf]
    command: >-
      cat $TAILOR_ROOT/opt/lib/lib.txt $TAILOR_ROOT/etc/app/mode > $TAILOR_OUT/app.txt &&
      echo "$TAILOR_COMPONENT $TAILOR_PHASE $SOURCE_DATE_EPOCH" >> $TAILOR_OUT/app.txt
`, map[string]string{"conf/train/mode": "training\n", "conf/serve/mode": "serving\n"})
	res, err := Run(context.Background(), c, WithParallelism(3), WithSourceDateEpoch(time.Unix(1700000000, 0)))
	t.Cleanup(func() { _ = res.Close() })
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"x86_64_v3+train": "lib for x86_64_v3\ntraining\napp train 1700000000\n",
		"x86_64+serve":    "lib for x86_64\nserving\napp serve 1700000000\n",
	}
	for _, b := range res.Images {
		fs := files(t, b.Image)
		if w, ok := want[b.Entry.Name]; ok && fs["app.txt"] != w {
			t.Errorf("%s: app.txt = %q, want %q", b.Entry.Name, fs["app.txt"], w)
		}
		if fs["opt/lib/lib.txt"] != "lib for "+b.Entry.Values[0].Name+"\n" {
			t.Errorf("%s: lib layer %q", b.Entry.Name, fs["opt/lib/lib.txt"])
		}
		cf, _ := b.Image.ConfigFile()
		if !cf.Created.Equal(time.Unix(1700000000, 0)) {
			t.Errorf("%s: created %s, want SOURCE_DATE_EPOCH", b.Entry.Name, cf.Created)
		}
	}
	if len(res.Images) != 4 || res.Report.UniqueLayers != 2+2+4 || res.Report.Layers != 12 {
		t.Errorf("%d images, %d of %d layers distinct; want 4 images, 8 of 12", len(res.Images), res.Report.UniqueLayers, res.Report.Layers)
	}
	i := slices.IndexFunc(res.Images, func(b Built) bool { return b.Entry.Name == "x86_64+serve" })
	if d := indexEntry(t, res, res.Images[i]); !res.Images[i].Entry.Generic() || res.Index.Manifest.Manifests[0].Digest != d.Digest {
		t.Errorf("the index starts with %s, want the generic x86_64+serve %s", res.Index.Manifest.Manifests[0].Digest, d.Digest)
	}
}

// TestStackBaseImage builds on a base image from a registry (an index of
// two architectures, Docker media types) and from an OCI layout: the
// base's layers come first, unannotated, the manifest names the base
// component, the base's config is kept.
func TestStackBaseImage(t *testing.T) {
	needCC(t)
	host := registrytest.New(t, "")
	var adds []mutate.IndexAddendum
	for _, arch := range []string{"arm64", "amd64"} {
		img := registrytest.Image(t, v1.Platform{OS: "linux", Architecture: arch}, map[string]string{"etc/os": "base-" + arch})
		cf, _ := img.ConfigFile()
		cf = cf.DeepCopy()
		cf.Config.Env = []string{"BASE=" + arch}
		img, _ = mutate.ConfigFile(img, cf)
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.DockerManifestList), adds...)
	if err := ggcr.WriteIndex(mustParse(t, host+"/base:1"), idx); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "base")
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{remote.AnnotationRefName: "1"})); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{host + "/base:1", "oci:" + dir + ":1"} {
		t.Run(base, func(t *testing.T) {
			c := writeStack(t, "axes: {cpu: [x86_64, x86_64_v3]}\ncomponents:\n  - {name: os, image: '"+base+"'}\n"+
				"  - {name: app, varies: [cpu], command: 'echo $TAILOR_TARGET > $TAILOR_OUT/app'}\n", map[string]string{})
			res, err := Run(context.Background(), c)
			t.Cleanup(func() { _ = res.Close() })
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range res.Images {
				fs := files(t, b.Image)
				m, _ := b.Image.Manifest()
				cf, _ := b.Image.ConfigFile()
				if fs["etc/os"] != "base-amd64" || fs["app"] != b.Entry.Name+"\n" || m.MediaType != types.DockerManifestSchema2 ||
					len(m.Layers) != 2 || m.Layers[0].Annotations != nil || m.Layers[1].Annotations[stack.AnnotationComponent] != "app" ||
					m.Layers[1].MediaType != types.DockerLayer || m.Annotations[stack.AnnotationBase] != "os" || !slices.Contains(cf.Config.Env, "BASE=amd64") {
					t.Errorf("%s: files %v, manifest %+v, env %v", b.Entry.Name, fs, m, cf.Config.Env)
				}
			}
		})
	}
}

// fakeTool writes an executable script that prints out.
func fakeTool(t *testing.T, out string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "nvcc")
	if err := os.WriteFile(path, []byte("#!/bin/sh\ncat <<'EOF'\n"+out+"EOF\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

const nvcc124 = "nvcc: NVIDIA (R) Cuda compiler driver\nCuda compilation tools, release 12.4, V12.4.131\n"

// TestStackCUDAToolchain checks an optional CUDA value is skipped, with
// the reason, where nvcc is missing, built with its variables where it is,
// and that a required one of another version is an error.
func TestStackCUDAToolchain(t *testing.T) {
	needCC(t)
	yaml := func(optional bool) string {
		opt := "false"
		if optional {
			opt = "true"
		}
		return "axes:\n  cpu: [x86_64_v3]\n  cuda: [none, {name: cu124, arch: sm_80+compute_90, version: '12.4', optional: " + opt + "}]\n" +
			"components:\n  - {name: kern, varies: [cuda], command: 'env | grep -E \"^(CUDA_|NVCC)\" | sort > $TAILOR_OUT/env'}\n"
	}
	p, err := NewPlan(context.Background(), writeStack(t, yaml(true), map[string]string{}), WithTool(ToolNVCC, "/nonexistent/nvcc"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Matrix.Entries) != 1 || len(p.Skipped) != 1 || p.Skipped[0].Value != "cu124" || !strings.Contains(p.Skipped[0].Reason, "nvcc") || !strings.Contains(p.Skipped[0].Reason, "kern") {
		t.Errorf("without nvcc: entries %d, skipped %+v; want the none entry and cu124 skipped, saying nvcc and kern", len(p.Matrix.Entries), p.Skipped)
	}

	nvcc := fakeTool(t, nvcc124)
	res, err := Run(context.Background(), writeStack(t, yaml(true), map[string]string{}), WithTool(ToolNVCC, nvcc))
	t.Cleanup(func() { _ = res.Close() })
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 2 {
		t.Fatalf("with nvcc 12.4: %d images, want 2", len(res.Images))
	}
	gpu := res.Images[1]
	env := files(t, gpu.Image)["env"]
	for _, w := range []string{"CUDA_ARCH=sm_80,compute_90", "CUDA_GENCODE=-gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=compute_90", "CUDA_VERSION=12.4", "NVCC=" + nvcc} {
		if !strings.Contains(env, w+"\n") {
			t.Errorf("the cu124 build's environment lacks %q:\n%s", w, env)
		}
	}
	d := indexEntry(t, res, gpu)
	if d.Annotations[requirement.AnnotationCUDAArch] != "compute_90,sm_80" || d.Annotations[requirement.AnnotationCUDAVersion] != "12.4" {
		t.Errorf("the cu124 entry's annotations: %v", d.Annotations)
	}

	_, err = NewPlan(context.Background(), writeStack(t, yaml(false), map[string]string{}), WithTool(ToolNVCC, fakeTool(t, "Cuda compilation tools, release 11.8, V11.8.89\n")))
	if !errors.Is(err, ErrNoCompiler) || !strings.Contains(err.Error(), "CUDA 11.8, the value wants 12.4") {
		t.Errorf("a required value with nvcc 11.8: %v, want ErrNoCompiler naming both versions", err)
	}
}

// TestLayerReproducible packs two copies of a tree made at other times
// with other umasks: the same bytes; an executable stays executable.
func TestLayerReproducible(t *testing.T) {
	epoch := time.Unix(1234567890, 0)
	var digests []v1.Hash
	for i, mode := range []os.FileMode{0o644, 0o664} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "b/c"), 0o775)
		os.WriteFile(filepath.Join(dir, "b/c/data"), []byte("data"), mode)
		os.WriteFile(filepath.Join(dir, "a.sh"), []byte("#!/bin/sh\n"), mode|0o111)
		os.Symlink("a.sh", filepath.Join(dir, "link"))
		when := time.Now().Add(time.Duration(i) * time.Hour)
		os.Chtimes(filepath.Join(dir, "b/c/data"), when, when)
		l, err := newLayer(dir, "/opt/x", epoch, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		d, _ := l.Digest()
		digests = append(digests, d)
		if i > 0 {
			continue
		}
		var data bytes.Buffer
		if err := tarDir(&data, dir, "/opt/x", epoch); err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(&data)
		var names []string
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			names = append(names, h.Name)
			if !h.ModTime.Equal(epoch) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" {
				t.Errorf("%s: time %s uid %d gid %d uname %q", h.Name, h.ModTime, h.Uid, h.Gid, h.Uname)
			}
			if wantMode := map[string]int64{"opt/x/a.sh": 0o755, "opt/x/b/c/data": 0o644, "opt/x/b/": 0o755}[h.Name]; wantMode != 0 && h.Mode != wantMode {
				t.Errorf("%s: mode %o, want %o", h.Name, h.Mode, wantMode)
			}
		}
		if want := []string{"opt/", "opt/x/", "opt/x/a.sh", "opt/x/b/", "opt/x/b/c/", "opt/x/b/c/data", "opt/x/link"}; !slices.Equal(names, want) {
			t.Errorf("layer entries %q, want %q", names, want)
		}
	}
	if digests[0] != digests[1] {
		t.Errorf("the same tree packed twice: %s and %s", digests[0], digests[1])
	}
}

// TestPlanHost resolves "host" in a stack's cpu axis and in its exclude
// rules to the detected target.
func TestPlanHost(t *testing.T) {
	needCC(t)
	c := writeStack(t, "axes: {cpu: [x86_64, host], fabric: [{value: tcp, requires: none}, ucx]}\n"+
		"components: [{name: app, varies: [cpu, fabric], command: 'echo $TAILOR_TARGET > $TAILOR_OUT/t'}]\n"+
		"exclude: [{cpu: host, fabric: tcp}]\n", map[string]string{})
	p, err := NewPlan(context.Background(), c, WithHostTarget(func(context.Context) (string, error) { return "haswell", nil }))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range p.Matrix.Entries {
		names = append(names, e.Name)
	}
	if want := []string{"x86_64+tcp", "x86_64+ucx", "haswell+ucx"}; !slices.Equal(names, want) {
		t.Errorf("entries %q, want %q", names, want)
	}
	if _, err := NewPlan(context.Background(), c); err == nil || !strings.Contains(err.Error(), "host detection") {
		t.Errorf("host without detection: %v", err)
	}
}
