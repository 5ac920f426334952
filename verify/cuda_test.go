package verify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/internal/gcctest"
)

// cudaProgram builds a host program whose .nv_fatbin section holds the
// recorded fat binary fixture (verify/fatbin/testdata), as nvcc links one.
func cudaProgram(t *testing.T, fixture string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("fatbin", "testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	src.WriteString("__attribute__((section(\".nv_fatbin\"), used, aligned(8))) static const unsigned char fatbin[] = {")
	for i, b := range data {
		if i > 0 {
			src.WriteString(",")
		}
		fmt.Fprintf(&src, "%d", b)
	}
	src.WriteString("};\nint main(void) { return 0; }\n")
	return gcctest.Build(t, []byte(src.String()), "app", "x86-64", "-static")
}

// TestCUDAArchs: dev.tailor.cuda.arch must name only architectures the
// image's fat binaries have code for.
func TestCUDAArchs(t *testing.T) {
	sm90 := cudaProgram(t, "sm90.fatbin")
	both := cudaProgram(t, "sm80-sm90-ptx80.fatbin")
	entry := func(bin, archs string) Entry {
		return Entry{
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}, Annotations: map[string]string{"dev.tailor.cuda.arch": archs}},
			Image:      image(t, []string{"/app"}, layer(t, entryTar{name: "app", local: bin})),
		}
	}
	res, err := Images(context.Background(), []Entry{
		entry(sm90, "sm_80,sm_90"),
		entry(sm90, "sm_90"),
		entry(both, "sm_80,sm_86,sm_90"), // sm_80 code runs on 8.6
		entry(both, "sm_89,compute_90"),  // PTX for 8.0 runs on 9.0; sm_80 on 8.9
		entry(sm90, "sm_100"),
	}, WithRun(false))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		v      Verdict
		reason string
		needs  string
	}{
		{Mislabeled, "sm_80: declared in dev.tailor.cuda.arch, but no program, library or kernel file carries code that runs on compute capability 8.0 (they have sm_90)", "cuda=sm_90"},
		{OK, "", ""},
		{OK, "", ""},
		{OK, "", ""},
		{Mislabeled, "sm_100", "cuda=sm_90"},
	}
	for i, w := range want {
		r := res[i]
		if r.Verdict != w.v || !strings.Contains(strings.Join(r.Reasons, "\n"), w.reason) || r.Needs != w.needs {
			t.Errorf("entry %d: %s %v needs %q; want %s mentioning %q, needs %q", i, r.Verdict, r.Reasons, r.Needs, w.v, w.reason, w.needs)
		}
		if len(r.Evidence.CUDA) != 1 || r.Evidence.CUDA[0].Path != "/app" {
			t.Errorf("entry %d: CUDA evidence %+v", i, r.Evidence.CUDA)
		}
	}
}
