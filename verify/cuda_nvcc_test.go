package verify

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/internal/cudatest"
)

// TestCUDANvccLabels judges images made of real nvcc output
// (test/cuda/build.sh; what each binary holds is checked against cuobjdump
// by verify/fatbin's TestNvccOutput) under right and wrong labels.
func TestCUDANvccLabels(t *testing.T) {
	dir := cudatest.Dir(t)
	file := func(name, at string) entryTar { return entryTar{name: at, local: filepath.Join(dir, name)} }
	app := func(name string) entryTar { return file(name, "app") }
	lib := file("libscale.so", "app-lib/libscale.so")
	cases := []struct {
		name   string
		files  []entryTar
		label  string // dev.tailor.cuda.arch
		v      Verdict
		needs  string
		reason string
	}{
		{"sm_70 as sm_70", []entryTar{app("sm70")}, "sm_70", OK, "", ""},
		{"sm_70 as sm_80", []entryTar{app("sm70")}, "sm_80", Mislabeled, "cuda=sm_70", "sm_80: declared"},
		{"sm_80 as sm_80,sm_86", []entryTar{app("sm80")}, "sm_80,sm_86", OK, "", ""},
		{"sm_80 as sm_80,sm_87 (Orin shares no SASS)", []entryTar{app("sm80")}, "sm_80,sm_87", Mislabeled, "cuda=sm_80", "sm_87: declared"},
		{"sm_80 as compute_80", []entryTar{app("sm80")}, "compute_80", Mislabeled, "cuda=sm_80", "every newer GPU"},
		{"sm_80+sm_90 as sm_80,sm_90", []entryTar{app("sm80-sm90")}, "sm_80,sm_90", OK, "", ""},
		{"sm_80+sm_90 as +compute_90", []entryTar{app("sm80-sm90")}, "sm_80,sm_90,compute_90", Mislabeled, "cuda=sm_80+sm_90", "compute_90: declared"},
		{"PTX only as compute_80", []entryTar{app("ptx80")}, "compute_80", OK, "", ""},
		{"PTX only as sm_90", []entryTar{app("ptx80")}, "sm_90", OK, "", ""},
		{"PTX only as compute_70", []entryTar{app("ptx80")}, "compute_70", Mislabeled, "cuda=compute_80", "compute_70: declared"},
		{"SASS+PTX as sm_80,compute_80", []entryTar{app("sm80-ptx80")}, "sm_80,compute_80", OK, "", ""},
		{"nvcc defaults undeclared", []entryTar{app("defaults")}, "", Mislabeled, "cuda=compute_52+sm_52", "declares no dev.tailor.cuda.arch"},
		{"nvcc defaults as sm_52,compute_52", []entryTar{app("defaults")}, "sm_52,compute_52", OK, "", ""},
		{"compressed as declared", []entryTar{app("compressed")}, "sm_70,sm_80,compute_80", OK, "", ""},
		{"compressed as sm_75", []entryTar{app("compressed")}, "sm_75", OK, "", ""}, // sm_70 runs on 7.5
		{"compressed as sm_60", []entryTar{app("compressed")}, "sm_60", Mislabeled, "cuda=compute_80+sm_70+sm_80", "sm_60: declared"},
		{"rdc sm_80 as sm_80", []entryTar{app("rdc-sm80")}, "sm_80", OK, "", ""},
		{"rdc sm_80 as sm_90 (relfatbin not loaded)", []entryTar{app("rdc-sm80")}, "sm_90", Mislabeled, "cuda=sm_80", "sm_90: declared"},
		{"rdc g++-linked as sm_80", []entryTar{app("rdc-gxx")}, "sm_80", OK, "", ""},
		{"rdc PTX-only as compute_90", []entryTar{app("rdc-ptx90")}, "compute_90", Mislabeled, "", "no file carries a GPU kernel the CUDA runtime loads"},
		{"rdc PTX-only as sm_80", []entryTar{app("rdc-ptx90")}, "sm_80", Mislabeled, "", "no file carries a GPU kernel"},
		{"library, nvcc-linked, as sm_80", []entryTar{app("shared-nvcc"), lib}, "sm_80", OK, "", ""},
		{"library, g++-linked, as sm_80", []entryTar{app("shared-gxx"), lib}, "sm_80", OK, "", ""},
		{"library, nvcc-linked, as sm_90", []entryTar{app("shared-nvcc"), lib}, "sm_90", Mislabeled, "cuda=sm_80", "sm_90: declared"},
		{"library, nvcc-linked, undeclared", []entryTar{app("shared-nvcc"), lib}, "", Mislabeled, "cuda=sm_80", "app-lib/libscale.so"},
		{"stub only, undeclared", []entryTar{app("shared-nvcc")}, "", OK, "", ""},
		{"stub only, declared (kernels from elsewhere: no evidence)", []entryTar{app("shared-nvcc")}, "sm_80", OK, "", ""},
		{"kernel file .fatbin as sm_80,sm_90", []entryTar{app("shared-gxx"), file("kernel.fatbin", "opt/k/kernel.fatbin")}, "sm_80,sm_90", OK, "", ""},
		{"kernel file .cubin as sm_86", []entryTar{app("shared-gxx"), file("kernel.cubin", "opt/k/kernel.cubin")}, "sm_86", OK, "", ""},
		{"kernel file .cubin as sm_80", []entryTar{app("shared-gxx"), file("kernel.cubin", "opt/k/kernel.cubin")}, "sm_80", Mislabeled, "cuda=sm_86", "sm_80: declared"},
		{"kernel file .ptx as compute_75", []entryTar{app("shared-gxx"), file("kernel.ptx", "opt/k/kernel.ptx")}, "compute_75", OK, "", ""},
		{"kernel file .ptx undeclared", []entryTar{app("shared-gxx"), file("kernel.ptx", "opt/k/kernel.ptx")}, "", Mislabeled, "cuda=compute_75", "/opt/k/kernel.ptx"},
		{"union of program and kernel file", []entryTar{app("sm70"), file("kernel.cubin", "opt/k/kernel.cubin")}, "sm_70,sm_86", OK, "", ""},
	}
	var entries []Entry
	for _, c := range cases {
		ann := map[string]string{}
		if c.label != "" {
			ann["dev.tailor.cuda.arch"] = c.label
		}
		entries = append(entries, Entry{
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}, Annotations: ann},
			Image:      image(t, []string{"/app"}, layer(t, c.files...)),
		})
	}
	res, err := Images(context.Background(), entries, WithRun(false))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		r := res[i]
		got := needsCUDA(r.Needs)
		if r.Verdict != c.v || got != c.needs || !strings.Contains(strings.Join(r.Reasons, "\n"), c.reason) {
			t.Errorf("%s: %s %q needs %q (%+v); want %s mentioning %q, needs %q", c.name, r.Verdict, r.Reasons, r.Needs, r.Evidence.CUDA, c.v, c.reason, c.needs)
		}
	}
}

// needsCUDA keeps the cuda= part of a short needs string.
func needsCUDA(needs string) string {
	for _, part := range strings.Split(needs, ";") {
		if strings.HasPrefix(part, "cuda=") {
			return part
		}
	}
	return ""
}
