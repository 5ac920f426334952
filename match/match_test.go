package match

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/profile"
)

func TestMatchOrder(t *testing.T) {
	amd := "linux/amd64"
	cases := []struct {
		name    string
		host    string
		entries []v1.Descriptor
		opts    []Option
		// want is the Index of every candidate in Match's order.
		want    []int
		fitting int
	}{
		{"most specific CPU first", "cpu=sapphirerapids", []v1.Descriptor{
			desc("0", amd, ""), desc("1", "linux/amd64/v3", ""), desc("2", amd, "cpu.target=haswell"), desc("3", amd, "cpu.target=skylake_avx512"),
		}, nil, []int{3, 2, 1, 0}, 4},
		{"level-only counts as its level target", "cpu=zen4", []v1.Descriptor{
			desc("0", amd, "cpu.target=x86_64_v3"), desc("1", "linux/amd64/v4", ""), desc("2", "linux/amd64/v2", ""),
		}, nil, []int{1, 0, 2}, 3},
		{"more features break a depth tie", "cpu=skylake_avx512", []v1.Descriptor{
			desc("0", amd, "cpu.target=haswell"), desc("1", amd, "cpu.target=haswell;cpu.features=avx512f"),
		}, nil, []int{1, 0}, 2},
		{"features only beat generic", "cpu=haswell", []v1.Descriptor{
			desc("0", amd, ""), desc("1", amd, "cpu.features=avx2"),
		}, nil, []int{1, 0}, 2},
		{"ties keep index order", "cpu=haswell", []v1.Descriptor{
			desc("0", amd, ""), desc("1", amd, ""), desc("2", amd, "cpu.target=haswell"), desc("3", amd, "cpu.target=haswell"),
		}, nil, []int{2, 3, 0, 1}, 4},
		{"generic fallback", "cpu=haswell", []v1.Descriptor{
			desc("0", amd, "cpu.target=zen4"), desc("1", amd, ""), desc("2", amd, "cpu.target=skylake_avx512"),
		}, nil, []int{1, 0, 2}, 1},
		{"multi-arch index on arm64", "cpu=neoverse_n1", []v1.Descriptor{
			desc("0", amd, ""), desc("1", "linux/arm64", ""), desc("2", amd, "cpu.target=haswell"),
			desc("3", "linux/arm64/v8.2", ""), desc("4", "linux/arm64", "cpu.target=neoverse_n1"), desc("5", "linux/arm64/v9.0", ""),
		}, nil, []int{4, 3, 1, 0, 2, 5}, 3},
		{"GPU code beats CPU specificity", "cpu=sapphirerapids,gpu=9.0,driver=550.54.14", []v1.Descriptor{
			desc("0", amd, ""), desc("1", amd, "cpu.target=sapphirerapids"), desc("2", amd, "cuda.arch=sm_90;cuda.version=12.4"),
		}, nil, []int{2, 1, 0}, 3},
		{"native before PTX", "cpu=zen3,gpu=9.0", []v1.Descriptor{
			desc("0", amd, "cuda.arch=compute_80"), desc("1", amd, "cuda.arch=sm_90"),
		}, nil, []int{1, 0}, 2},
		{"exact minor before older minor", "cpu=zen3,gpu=8.6", []v1.Descriptor{
			desc("0", amd, "cuda.arch=sm_80"), desc("1", amd, "cuda.arch=sm_86"), desc("2", amd, "cuda.arch=compute_86"),
		}, nil, []int{1, 0, 2}, 3},
		{"closer PTX first", "cpu=zen3,gpu=9.0", []v1.Descriptor{
			desc("0", amd, "cuda.arch=compute_70"), desc("1", amd, "cuda.arch=compute_80"),
		}, nil, []int{1, 0}, 2},
		{"arch-specific before plain", "cpu=zen3,gpu=9.0", []v1.Descriptor{
			desc("0", amd, "cuda.arch=sm_90"), desc("1", amd, "cuda.arch=sm_90a"),
		}, nil, []int{1, 0}, 2},
		{"GPU entries rank by GPU before CPU", "cpu=zen3,gpu=9.0", []v1.Descriptor{
			desc("0", amd, "cpu.target=zen3;cuda.arch=compute_90"), desc("1", amd, "cuda.arch=sm_90"),
		}, nil, []int{1, 0}, 2},
		{"ROCm code beats CPU-only", "cpu=zen3,gpu=gfx942", []v1.Descriptor{
			desc("0", amd, "cpu.target=zen3"), desc("1", amd, "rocm.arch=gfx942"),
		}, nil, []int{1, 0}, 2},
		{"more labels first", "cpu=zen3,label.mpi=openmpi,label.fabric=infiniband", []v1.Descriptor{
			desc("0", amd, ""), desc("1", amd, "requires=mpi=openmpi"), desc("2", amd, "requires=mpi=openmpi,fabric=infiniband"),
		}, nil, []int{2, 1, 0}, 3},
		{"avoid avx512f demotes but keeps", "cpu=skylake_avx512", []v1.Descriptor{
			desc("0", amd, ""), desc("1", amd, "cpu.target=haswell"), desc("2", amd, "cpu.target=skylake_avx512"), desc("3", "linux/amd64/v4", ""),
		}, []Option{WithAvoid("avx512f")}, []int{1, 0, 2, 3}, 4},
		{"avoid alias avx512", "cpu=skylake_avx512", []v1.Descriptor{
			desc("0", amd, "cpu.features=avx512bw"), desc("1", amd, "cpu.target=haswell"),
		}, []Option{WithAvoid("avx512")}, []int{1, 0}, 2},
		{"avoid target demotes descendants", "cpu=icelake", []v1.Descriptor{
			desc("0", amd, "cpu.target=haswell"), desc("1", amd, "cpu.target=icelake"),
		}, []Option{WithAvoid("skylake_avx512")}, []int{0, 1}, 2},
		{"only avoided fits", "cpu=skylake_avx512", []v1.Descriptor{
			desc("0", amd, "cpu.target=skylake_avx512"), desc("1", amd, "cpu.target=zen4"),
		}, []Option{WithAvoid("avx512f")}, []int{0, 1}, 1},
		{"prefer exact target", "cpu=skylake", []v1.Descriptor{
			desc("0", amd, "cpu.target=skylake"), desc("1", amd, "cpu.target=haswell"),
		}, []Option{WithPrefer("haswell")}, []int{1, 0}, 2},
		{"prefer feature", "cpu=skylake", []v1.Descriptor{
			desc("0", amd, "cpu.target=x86_64_v2"), desc("1", amd, "cpu.features=fma"),
		}, []Option{WithPrefer("feature:fma")}, []int{1, 0}, 2},
		{"policy below GPU", "cpu=skylake_avx512,gpu=9.0", []v1.Descriptor{
			desc("0", amd, "cpu.target=haswell"), desc("1", amd, "cpu.target=skylake_avx512;cuda.arch=sm_90"),
		}, []Option{WithAvoid("avx512f")}, []int{1, 0}, 2},
		{"non-fitting keep index order", "cpu=haswell", []v1.Descriptor{
			desc("0", amd, "cpu.target=zen4"), desc("1", "", ""), desc("2", "linux/arm64", ""), desc("3", amd, ""),
		}, nil, []int{3, 0, 1, 2}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cands, err := Match(tc.entries, mustProfile(t, tc.host), tc.opts...)
			if err != nil {
				t.Fatalf("Match(%s): %v", tc.name, err)
			}
			if got := order(cands); !slices.Equal(got, tc.want) {
				var why []string
				for _, c := range cands {
					why = append(why, details(c))
				}
				t.Errorf("Match(%s) order = %v, want %v\n%s", tc.name, got, tc.want, strings.Join(why, "\n"))
			}
			if got := len(fitting(cands)); got != tc.fitting {
				t.Errorf("Match(%s) fitting = %d, want %d", tc.name, got, tc.fitting)
			}
			for i, c := range cands {
				if want := map[bool]int{true: i + 1, false: 0}[c.Fits]; c.Rank != want {
					t.Errorf("Match(%s)[%d].Rank = %d, want %d", tc.name, i, c.Rank, want)
				}
			}
		})
	}
}

func TestBest(t *testing.T) {
	entries := []v1.Descriptor{desc("0", "linux/amd64", ""), desc("1", "linux/amd64", "cpu.target=haswell")}
	best, all, err := Best(entries, mustProfile(t, "cpu=skylake"))
	if err != nil {
		t.Fatalf("Best: %v", err)
	}
	if best.Index != 1 || best.Rank != 1 || len(all) != 2 {
		t.Errorf("Best = entry %d rank %d of %d, want entry 1 rank 1 of 2", best.Index, best.Rank, len(all))
	}
}

func TestBestNoMatch(t *testing.T) {
	entries := []v1.Descriptor{
		desc("0", "linux/amd64", "cpu.target=zen4"),
		desc("1", "linux/arm64", ""),
		desc("2", "linux/amd64", "cuda.arch=sm_90"),
		desc("3", "unknown/unknown", "vnd.docker.reference.type=attestation-manifest"),
	}
	_, all, err := Best(entries, mustProfile(t, "cpu=haswell"))
	if !errors.Is(err, ErrNoMatch) {
		t.Fatalf("Best error = %v, want ErrNoMatch", err)
	}
	var nm *NoMatchError
	if !errors.As(err, &nm) || len(nm.Candidates) != 4 || len(all) != 4 {
		t.Fatalf("Best error = %#v, want a *NoMatchError with 4 candidates", err)
	}
	for _, want := range []string{
		"entry 0 (sha256:", "cpu=zen4): target zen4 (AuthenticAMD) is not an ancestor of host target haswell and its vendor differs",
		"entry 1", "platform linux/arm64 does not fit host linux/amd64/v3",
		"entry 2", "needs an NVIDIA GPU, host has none",
		"entry 3", "requirements not read): an attestation manifest",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Best error = %q, want it to contain %q", err, want)
		}
	}
	if _, _, err := Best(nil, mustProfile(t, "cpu=haswell")); !errors.Is(err, ErrNoMatch) || !strings.Contains(err.Error(), "no entries") {
		t.Errorf("Best(empty) error = %v, want ErrNoMatch saying the index is empty", err)
	}
}

func TestMalformed(t *testing.T) {
	host := mustProfile(t, "cpu=haswell")
	for _, tc := range []struct{ name, ann, want string }{
		{"unknown target", "cpu.target=zen9", `unknown target "zen9"`},
		{"malformed CUDA arch", "cuda.arch=sm_9x", `CUDA arch "sm_9x"`},
		{"unknown annotation", "cpu.taget=haswell", `unknown annotation "dev.tailor.cpu.taget"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			entries := []v1.Descriptor{desc("0", "linux/amd64", ""), desc("1", "linux/amd64", tc.ann)}
			_, err := Match(entries, host)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "entry 1") ||
				!strings.Contains(err.Error(), entries[1].Digest.String()[:19]) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Match(%s) error = %v, want one line naming entry 1, its digest and %q", tc.name, err, tc.want)
			}
			cands, err := Match(entries, host, Lenient())
			if err != nil {
				t.Fatalf("Match(%s, Lenient()) error = %v", tc.name, err)
			}
			if got := order(cands); !slices.Equal(got, []int{0, 1}) || cands[1].Fits {
				t.Fatalf("Match(%s, Lenient()) = %v, want [0 1] with 1 not fitting", tc.name, got)
			}
			f := cands[1].Failed()
			if len(f) != 1 || f[0].Requirement != CheckRequirements || !strings.Contains(f[0].Detail, tc.want) {
				t.Errorf("Match(%s, Lenient())[1].Failed() = %v, want a %s check with %q", tc.name, f, CheckRequirements, tc.want)
			}
		})
	}
}

func TestBadInputs(t *testing.T) {
	entries := []v1.Descriptor{desc("0", "linux/amd64", "")}
	if _, err := Match(entries, nil); err == nil || !strings.Contains(err.Error(), "nil") {
		t.Errorf("Match(nil profile) error = %v, want one saying the profile is nil", err)
	}
	bad := &profile.Profile{OS: "linux", CPU: profile.CPU{Microarchitecture: "zen9"}}
	if _, err := Match(entries, bad); !errors.Is(err, profile.ErrInvalid) {
		t.Errorf("Match(unknown host target) error = %v, want profile.ErrInvalid", err)
	}
	for _, opts := range [][]Option{
		{WithPrefer("avx2"), WithAvoid("avx2")},
		{WithAvoid("target:zen9")},
		{WithPrefer("cpu:haswell")},
		{WithPrefer("")},
	} {
		if _, err := Match(entries, mustProfile(t, "cpu=haswell"), opts...); err == nil {
			t.Errorf("Match with conflicting or bad options: no error")
		}
	}
}

func TestMatchDoesNotMutate(t *testing.T) {
	entries := []v1.Descriptor{
		desc("0", "linux/amd64", ""), desc("1", "linux/amd64", "cpu.target=haswell"),
		withFeatures(desc("2", "linux/amd64", ""), "cpu:skylake"), desc("3", "linux/amd64/v3", ""),
	}
	var before []v1.Descriptor
	for _, d := range entries {
		c := d
		c.Platform = &v1.Platform{}
		*c.Platform = *d.Platform
		c.Platform.Features = slices.Clone(d.Platform.Features)
		before = append(before, c)
	}
	first, err := Match(entries, mustProfile(t, "cpu=skylake"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(entries, before) {
		t.Errorf("Match modified its input: %v, want %v", entries, before)
	}
	for i := 0; i < 5; i++ {
		again, _ := Match(entries, mustProfile(t, "cpu=skylake"))
		if !reflect.DeepEqual(first, again) {
			t.Fatalf("Match is not deterministic: %v then %v", order(first), order(again))
		}
	}
}

func TestLess(t *testing.T) {
	entries := []v1.Descriptor{desc("0", "linux/amd64", ""), desc("1", "linux/amd64", "cpu.target=zen4"), desc("2", "linux/amd64", "cpu.target=haswell")}
	cands, err := Match(entries, mustProfile(t, "cpu=haswell"))
	if err != nil {
		t.Fatal(err)
	}
	shuffled := []Candidate{cands[2], cands[0], cands[1]}
	slices.SortFunc(shuffled, func(a, b Candidate) int {
		if Less(a, b) {
			return -1
		}
		if Less(b, a) {
			return 1
		}
		return 0
	})
	if got := order(shuffled); !slices.Equal(got, []int{2, 0, 1}) {
		t.Errorf("sorted by Less = %v, want [2 0 1]", got)
	}
}

// TestBestByISALevel: the build of the higher ISA level wins over a deeper
// target of a lower level (ivybridge has no AVX2; x86_64_v3 does), and
// among builds of one level the most specific target wins.
func TestBestByISALevel(t *testing.T) {
	for _, tc := range []struct {
		host    string
		entries []string // cpu.target of each entry after the generic one
		want    string
	}{
		{"cpu=broadwell", []string{"ivybridge", "x86_64_v3"}, "x86_64_v3"},
		{"cpu=broadwell", []string{"x86_64_v3", "haswell"}, "haswell"},
		{"cpu=icelake", []string{"skylake", "x86_64_v4", "haswell"}, "x86_64_v4"},
		{"cpu=icelake", []string{"x86_64_v4", "skylake_avx512"}, "skylake_avx512"},
		{"cpu=zen4", []string{"zen3", "x86_64_v4"}, "x86_64_v4"},
		{"cpu=zen4", []string{"zen3", "zen2", "x86_64_v3"}, "zen3"},
		{"cpu=neoverse_v2", []string{"neoverse_n1", "armv9.0a"}, "armv9.0a"},
	} {
		arch := "linux/amd64"
		if strings.HasPrefix(tc.host, "cpu=neoverse") {
			arch = "linux/arm64"
		}
		entries := []v1.Descriptor{desc("generic", arch, "")}
		for _, e := range tc.entries {
			entries = append(entries, desc(e, arch, "cpu.target="+e))
		}
		best, _, err := Best(entries, mustProfile(t, tc.host))
		if err != nil {
			t.Fatalf("%s: %v", tc.host, err)
		}
		if got := best.Reqs.Target; got != tc.want {
			t.Errorf("Best for %s among %v = %s, want %s", tc.host, tc.entries, got, tc.want)
		}
	}
}
