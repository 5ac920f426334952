package nfd

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/profile"
)

func TestLabels(t *testing.T) {
	p, err := profile.ParseSpec("cpu=zen3,gpu=8.0+9.0,driver=550.54.15,label.mpi=openmpi,label.site=a b")
	if err != nil {
		t.Fatal(err)
	}
	got := Labels(p)
	for _, want := range []string{
		"tailor.dev/cpu.target=zen3",
		"tailor.dev/cpu.vendor=AuthenticAMD",
		"tailor.dev/platform.architecture=amd64",
		"tailor.dev/platform.variant=v3",
		"tailor.dev/cpu.level=v3",
		"tailor.dev/cpu.target.zen3=true",
		"tailor.dev/cpu.target.zen2=true",
		"tailor.dev/cpu.target.x86_64_v3=true",
		"tailor.dev/cpu.target.x86_64=true",
		"tailor.dev/gpu.nvidia.compute-capability=9.0",
		"tailor.dev/gpu.nvidia.count=2",
		"tailor.dev/gpu.nvidia.driver=550.54.15",
		"tailor.dev/gpu.nvidia.cuda=12.4",
		"tailor.dev/label.mpi=openmpi",
		"tailor.dev/label.site=a_b",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("Labels lack %q:\n%s", want, strings.Join(got, "\n"))
		}
	}
	if slices.Contains(got, "tailor.dev/cpu.target.zen4=true") {
		t.Error("a zen3 node is labelled as running zen4 code")
	}
	var b bytes.Buffer
	if err := WriteFeatureFile(&b, p); err != nil || b.String() != strings.Join(got, "\n")+"\n" {
		t.Errorf("WriteFeatureFile = %q, %v; want the labels a line each", b.String(), err)
	}
	amd, _ := profile.ParseSpec("cpu=zen4,gpu=gfx942")
	if l := Labels(amd); !slices.Contains(l, "tailor.dev/gpu.amd.gfx942=true") || slices.ContainsFunc(l, func(s string) bool { return strings.Contains(s, "nvidia") }) {
		t.Errorf("Labels(AMD GPU host) = %v", l)
	}
}

func TestValue(t *testing.T) {
	for in, want := range map[string]string{
		"GenuineIntel":          "GenuineIntel",
		"a b/c:d":               "a_b_c_d",
		strings.Repeat("x", 70): strings.Repeat("x", 63),
	} {
		if got := Value(in); got != want {
			t.Errorf("Value(%q) = %q, want %q", in, got, want)
		}
	}
}
