package requirement

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestParseCUDAArch(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want CUDAArch
	}{
		{"sm_80", CUDAArch{Major: 8, Minor: 0}},
		{"sm_86", CUDAArch{Major: 8, Minor: 6}},
		{"compute_90", CUDAArch{Major: 9, Minor: 0, PTX: true}},
		{"sm_90a", CUDAArch{Major: 9, Minor: 0, Suffix: "a"}},
		{"sm_100f", CUDAArch{Major: 10, Minor: 0, Suffix: "f"}},
		{"sm_120", CUDAArch{Major: 12, Minor: 0}},
	} {
		got, err := ParseCUDAArch(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseCUDAArch(%q) = %+v, %v, want %+v", tc.in, got, err, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("ParseCUDAArch(%q).String() = %q", tc.in, got.String())
		}
	}
	for _, in := range []string{"", "sm_8", "sm_9x", "sm_080", "compute_", "sm_90b", "SM_80", "sm_80 ", "gfx90a", "sm_1000"} {
		if got, err := ParseCUDAArch(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCUDAArch(%q) = %+v, %v, want ErrMalformed", in, got, err)
		}
	}
}

func TestRunsOn(t *testing.T) {
	for want, cases := range map[bool][]string{
		true: {"compute_90a@9.0", "compute_100f@10.3", "sm_80@8.0", "sm_80@8.6", "sm_86@8.9", "compute_80@9.0", "compute_80@8.0", "compute_52@12.0", "sm_90a@9.0", "sm_100f@10.3", "sm_100f@10.0",
			// PTX crosses between desktop and integrated GPUs.
			"compute_80@8.7", "compute_72@7.5", "compute_53@8.9", "sm_72@7.2", "sm_87@8.7", "sm_110@11.0"},
		false: {"compute_90a@10.0", "compute_100f@12.0", "sm_86@8.0", "sm_80@9.0", "sm_90@8.9", "compute_90@8.9", "sm_90a@9.1", "sm_90a@8.9", "sm_100f@12.0", "sm_103f@10.0",
			// Native code never crosses between desktop and integrated
			// (Tegra) GPUs (CUDA C++ Programming Guide, "Binary Compatibility").
			"sm_80@8.7", "sm_86@8.7", "sm_87@8.9", "sm_70@7.2", "sm_72@7.5", "sm_60@6.2", "sm_50@5.3", "sm_100@10.1", "sm_100f@10.1"},
	} {
		for _, c := range cases {
			arch, cc, _ := strings.Cut(c, "@")
			a, err := ParseCUDAArch(arch)
			if err != nil {
				t.Fatal(err)
			}
			major, minor := int(cc[0]-'0'), int(cc[len(cc)-1]-'0')
			if len(cc) == 4 {
				major = 10 + int(cc[1]-'0')
			}
			if got, why := a.RunsOn(major, minor); got != want || why == "" {
				t.Errorf("%s.RunsOn(%d.%d) = %v (%q), want %v", arch, major, minor, got, why, want)
			}
		}
	}
}

func TestDriverFloor(t *testing.T) {
	for in, want := range map[string]string{
		"13.0": "580", "13.1": "580", "12.0": "525.60.13", "12.4": "525.60.13", "11.8": "450.80.02",
		"10.2": "440.33", "10.2.89": "440.33", "10.1": "418.39", "10.0": "410.48", "10": "410.48", "9.2": "", "": "", "x": "",
	} {
		if got := DriverFloor(in); got != want {
			t.Errorf("DriverFloor(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseShort(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Requirements
	}{
		{"", Requirements{Source: SourceShort}},
		{"generic", Requirements{Source: SourceShort}},
		{"cpu=skylake_avx512,features=avx512vnni", Requirements{Target: "skylake_avx512", Features: []string{"avx512vnni"}, Source: SourceShort}},
		{"cuda=sm_80+sm_90+compute_90,cuda-version=12.4", Requirements{
			CUDA:        []CUDAArch{{Major: 8}, {Major: 9}, {Major: 9, PTX: true}},
			CUDAVersion: "12.4", Source: SourceShort}},
		{"rocm=gfx90a+gfx942+gfx1100", Requirements{ROCm: []string{"gfx90a", "gfx942", "gfx1100"}, Source: SourceShort}},
		{"requires=mpi=openmpi+fabric=infiniband", Requirements{Labels: map[string]string{"mpi": "openmpi", "fabric": "infiniband"}, Source: SourceShort}},
	} {
		got, err := ParseShort(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseShort(%q) = %+v, %v, want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"cpu=zen9", "cpu", "cuda=sm_9x", "rocm=gfx", "requires=mpi", "colour=red", "cuda-version=twelve", "features=a b"} {
		if got, err := ParseShort(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseShort(%q) = %+v, %v, want ErrMalformed", in, got, err)
		}
	}
}

func TestFromDescriptor(t *testing.T) {
	plat := func(s string, features ...string) *v1.Platform {
		parts := strings.SplitN(s, "/", 3)
		p := &v1.Platform{OS: parts[0], Architecture: parts[1], Features: features}
		if len(parts) == 3 {
			p.Variant = parts[2]
		}
		return p
	}
	for _, tc := range []struct {
		name string
		d    v1.Descriptor
		want Requirements
	}{
		{"generic", v1.Descriptor{Platform: plat("linux/amd64")}, Requirements{Source: SourceNone}},
		{"no platform", v1.Descriptor{}, Requirements{Source: SourceNone}},
		{"amd64/v1 is the base level", v1.Descriptor{Platform: plat("linux/amd64/v1")}, Requirements{Source: SourceNone}},
		{"arm64/v8 is the base level", v1.Descriptor{Platform: plat("linux/arm64/v8")}, Requirements{Source: SourceNone}},
		{"level variant", v1.Descriptor{Platform: plat("linux/amd64/v3")}, Requirements{Target: "x86_64_v3", Source: SourceVariant}},
		{"arm level variant", v1.Descriptor{Platform: plat("linux/arm64/v8.2")}, Requirements{Target: "armv8.2a", Source: SourceVariant}},
		{"annotations", v1.Descriptor{Platform: plat("linux/amd64"), Annotations: map[string]string{
			AnnotationCPUTarget: "zen3", AnnotationCUDAArch: "sm_80", AnnotationROCmArch: "gfx90a",
		}}, Requirements{Target: "zen3", CUDA: []CUDAArch{{Major: 8}}, ROCm: []string{"gfx90a"}, Source: SourceAnnotations}},
		{"annotations with a level variant", v1.Descriptor{Platform: plat("linux/amd64/v3"), Annotations: map[string]string{
			AnnotationCUDAArch: "sm_90",
		}}, Requirements{Target: "x86_64_v3", CUDA: []CUDAArch{{Major: 9}}, Source: SourceAnnotations}},
		{"metahub", v1.Descriptor{Platform: plat("linux/amd64", "cpu:broadwell", "nvcap:5.2")},
			Requirements{Target: "broadwell", CUDA: []CUDAArch{{Major: 5, Minor: 2}}, Source: SourceFeatures}},
	} {
		got, err := FromDescriptor(tc.d)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("FromDescriptor(%s) = %+v, %v, want %+v", tc.name, got, err, tc.want)
		}
	}
	for name, d := range map[string]v1.Descriptor{
		"unknown target":      {Platform: plat("linux/amd64"), Annotations: map[string]string{AnnotationCPUTarget: "zen9"}},
		"bad CUDA arch":       {Platform: plat("linux/amd64"), Annotations: map[string]string{AnnotationCUDAArch: "sm_9x"}},
		"annotation typo":     {Platform: plat("linux/amd64"), Annotations: map[string]string{"dev.tailor.cpu.targt": "zen3"}},
		"arm target on amd64": {Platform: plat("linux/amd64"), Annotations: map[string]string{AnnotationCPUTarget: "neoverse_v2"}},
		"unknown variant":     {Platform: plat("linux/amd64/v7")},
		"two metahub cpus":    {Platform: plat("linux/amd64", "cpu:haswell", "cpu:skylake")},
		"bad nvcap":           {Platform: plat("linux/amd64", "nvcap:52")},
	} {
		if got, err := FromDescriptor(d); !errors.Is(err, ErrMalformed) && err == nil {
			t.Errorf("FromDescriptor(%s) = %+v, want an error", name, got)
		} else if err != nil && !strings.Contains(err.Error(), "index entry") {
			t.Errorf("FromDescriptor(%s) error %q does not name the entry", name, err)
		}
	}
}

// roundTrip checks ParseShort(r.String()) and FromAnnotations(r.Annotations())
// give r back (apart from Source).
func roundTrip(t *testing.T, r Requirements) {
	t.Helper()
	norm := func(r Requirements) Requirements {
		r.Source = ""
		if len(r.Labels) == 0 {
			r.Labels = nil
		}
		return r
	}
	back, err := ParseShort(r.String())
	if err != nil || !reflect.DeepEqual(norm(back), norm(r)) {
		t.Errorf("ParseShort(%q) = %+v, %v, want %+v", r.String(), back, err, r)
	}
	back, err = FromAnnotations(r.Annotations())
	if err != nil || !reflect.DeepEqual(norm(back), norm(r)) {
		t.Errorf("FromAnnotations(%v) = %+v, %v, want %+v", r.Annotations(), back, err, r)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, s := range []string{
		"generic",
		"cpu=haswell",
		"cpu=skylake_avx512,features=avx512vnni+avx512bf16,cuda=sm_80+sm_90a+compute_90,cuda-version=12.4,rocm=gfx90a+gfx942,requires=fabric=infiniband+mpi=openmpi",
		"cuda=sm_100f",
	} {
		r, err := ParseShort(s)
		if err != nil {
			t.Fatalf("ParseShort(%q): %v", s, err)
		}
		if r.String() != s {
			t.Errorf("ParseShort(%q).String() = %q", s, r.String())
		}
		roundTrip(t, r)
	}
}

func TestIsLevelOnly(t *testing.T) {
	for want, specs := range map[bool][]string{
		true:  {"cpu=x86_64_v3", "cpu=x86_64_v4", "cpu=armv8.2a"},
		false: {"generic", "cpu=haswell", "cpu=x86_64", "cpu=x86_64_v3,cuda=sm_80", "cpu=x86_64_v2,features=avx2"},
	} {
		for _, s := range specs {
			r, err := ParseShort(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.IsLevelOnly(); got != want {
				t.Errorf("ParseShort(%q).IsLevelOnly() = %v, want %v", s, got, want)
			}
		}
	}
}

func FuzzParseShort(f *testing.F) {
	for _, s := range []string{"", "generic", "cpu=haswell,features=avx2", "cuda=sm_80+compute_90,cuda-version=12.4", "rocm=gfx90a", "requires=a=b+c=d", "cpu=zen9", "x=,=y,,", "requires=a=b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseShort(s)
		if err != nil {
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("ParseShort(%q) = %+v, which does not validate: %v", s, r, err)
		}
		roundTrip(t, r)
	})
}

func FuzzParseCUDAArch(f *testing.F) {
	for _, s := range []string{"sm_80", "sm_90a", "sm_100f", "compute_90", "sm_", "sm_9x", "compute_120a"} {
		f.Add(s, 9, 0)
	}
	f.Fuzz(func(t *testing.T, s string, major, minor int) {
		a, err := ParseCUDAArch(s)
		if err != nil {
			return
		}
		if a.String() != s {
			t.Fatalf("ParseCUDAArch(%q).String() = %q", s, a.String())
		}
		ok, why := a.RunsOn(major, minor)
		if why == "" {
			t.Fatalf("%s.RunsOn(%d, %d) = %v with no reason", a, major, minor, ok)
		}
		if ok && a.Suffix == "a" && (major != a.Major || minor != a.Minor) {
			t.Fatalf("%s.RunsOn(%d, %d) = true, want exactly %s", a, major, minor, a.Capability())
		}
		if ok && (!a.PTX || a.Suffix != "") && major != a.Major {
			t.Fatalf("native %s.RunsOn(%d, %d) = true across majors", a, major, minor)
		}
	})
}
