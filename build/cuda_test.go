package build

import (
	"context"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/requirement"
)

// TestStackCUDAVersionFromNvcc: a cuda value without version: publishes
// the release nvcc reports; the none value's command writes nothing and
// the build goes on (an empty layer); nvcc gets the cpu value's host
// compiler flags through NVCC_APPEND_FLAGS.
func TestStackCUDAVersionFromNvcc(t *testing.T) {
	needCC(t)
	yaml := "axes:\n  cpu: [x86_64_v3]\n  cuda: [none, {name: cu, arch: sm_80}]\n" +
		"components:\n  - {name: kern, varies: [cpu, cuda], command: 'if [ -n \"$CUDA_ARCH\" ]; then env | grep -E \"^(CUDA_|NVCC)\" | sort > $TAILOR_OUT/env; fi'}\n"
	nvcc := fakeTool(t, nvcc124)
	res, err := Run(context.Background(), writeStack(t, yaml, map[string]string{}), WithTool(ToolNVCC, nvcc))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != 2 {
		t.Fatalf("%d images, want 2 (none, cu)", len(res.Images))
	}
	none, gpu := res.Images[0], res.Images[1]
	if f := files(t, none.Image); len(f) != 0 {
		t.Errorf("the none build's files: %v, want none", f)
	}
	env := files(t, gpu.Image)["env"]
	for _, w := range []string{"CUDA_ARCH=sm_80", "CUDA_VERSION=12.4", "NVCC=" + nvcc, "NVCC_APPEND_FLAGS=-Xcompiler=-march=x86-64-v3"} {
		if !strings.Contains(env, w) {
			t.Errorf("the cu build's environment lacks %q:\n%s", w, env)
		}
	}
	d := indexEntry(t, res, gpu)
	if d.Annotations[requirement.AnnotationCUDAArch] != "sm_80" || d.Annotations[requirement.AnnotationCUDAVersion] != "12.4" {
		t.Errorf("the cu entry's annotations: %v, want cuda.arch sm_80 and cuda.version 12.4 from nvcc", d.Annotations)
	}
	if v := indexEntry(t, res, none).Annotations[requirement.AnnotationCUDAVersion]; v != "" {
		t.Errorf("the none entry publishes cuda.version %q", v)
	}
}

func TestNVCCHostFlags(t *testing.T) {
	for flags, want := range map[string]string{
		"-march=haswell -mtune=haswell": "NVCC_APPEND_FLAGS=-Xcompiler=-march=haswell,-mtune=haswell",
		"":                              "NVCC_APPEND_FLAGS=",
	} {
		if got := nvccHostFlags(flags); got != want {
			t.Errorf("nvccHostFlags(%q) = %q, want %q", flags, got, want)
		}
	}
}
