package match

import (
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The documents every expected answer below is derived from (cited per row
// by their tag):
//
//	[CC]      CUDA C++ Programming Guide, "Compute Capabilities" table (V100 7.0,
//	          T4 7.5, A100 8.0, A10 8.6, L4 and RTX 4090 8.9, H100 and GH200 9.0,
//	          B200 10.0, RTX 5090 12.0, Jetson Xavier 7.2, Jetson Orin 8.7).
//	[BIN]     CUDA C++ Programming Guide, "Binary Compatibility": a cubin for
//	          X.y runs on X.z with z >= y only; desktop and Tegra (integrated)
//	          GPUs are not binary compatible with each other.
//	[PTX]     CUDA C++ Programming Guide, "PTX Compatibility": PTX for X.Y is
//	          JIT-compiled for any compute capability >= X.Y; arch-specific
//	          (sm_90a) code runs only on 9.0, family code (sm_100f) within 10.x.
//	[MINOR]   CUDA Compatibility guide, "Minor Version Compatibility": 11.x
//	          applications run on drivers >= 450.80.02, 12.x on >= 525.60.13,
//	          13.x on >= 580 — native code only; PTX JIT needs the toolkit's
//	          own driver or newer (its limitations list).
//	[TABLE3]  CUDA Toolkit release notes, table 3 "CUDA Toolkit and
//	          Corresponding Driver Versions": 10.2 440.33, 11.8 520.61.05,
//	          12.4 550.54.14, 12.8 570.26, 12.9 575.51.03; no minor-version
//	          compatibility before 11.

// Family indexes as projects publish them: a CPU-only generic entry first,
// then CUDA builds per toolkit.
var cudaIndexes = map[string][]string{
	"cu102":     {"", "cuda.arch=sm_37,sm_50,sm_60,sm_70,sm_75,compute_75;cuda.version=10.2"},
	"cu118":     {"", "cuda.arch=sm_50,sm_60,sm_70,sm_75,sm_80,sm_86,sm_90,compute_90;cuda.version=11.8"},
	"cu124":     {"", "cuda.arch=sm_70,sm_75,sm_80,sm_86,sm_90;cuda.version=12.4", "cuda.arch=compute_90;cuda.version=12.4", "cuda.arch=sm_87;cuda.version=12.4"},
	"cu124-ptx": {"", "cuda.arch=compute_90;cuda.version=12.4"},
	"cu128":     {"", "cuda.arch=sm_75,sm_80,sm_86,sm_89,sm_90,sm_100,sm_120,compute_120;cuda.version=12.8"},
	"cu129":     {"", "cuda.arch=sm_90a;cuda.version=12.9", "cuda.arch=sm_100f;cuda.version=12.9", "cuda.arch=sm_80,sm_90,compute_90;cuda.version=12.9"},
}

// TestMatchCUDAHosts matches realistic hosts (GPU, driver) against CUDA
// family indexes; want is the entry NVIDIA's rules give (0 is the CPU-only
// generic entry: no CUDA entry runs).
func TestMatchCUDAHosts(t *testing.T) {
	for _, tc := range []struct {
		host, index string
		want        int
		why         string // the rule, with its documents
	}{
		// CUDA 10.2: no minor-version compatibility, 440.33 for everything.
		{"V100 gpu=7.0,driver=418.87.01", "cu102", 0, "10.2 needs 440.33, R418 is below [TABLE3]"},
		{"V100 gpu=7.0,driver=450.80.02", "cu102", 1, "sm_70 native [BIN], 450 >= 440.33 [TABLE3]"},
		{"T4 gpu=7.5,driver=440.33.01", "cu102", 1, "sm_75 native [CC][BIN], its own release's driver [TABLE3]"},
		{"A100 gpu=8.0,driver=450.80.02", "cu102", 1, "no sm_8x: compute_75 JIT-compiles for 8.0 [PTX], 450 >= 440.33 [TABLE3]"},
		{"H100 gpu=9.0,driver=535.104.12", "cu102", 1, "compute_75 JIT for 9.0 [PTX]"},
		{"Orin gpu=8.7,cuda=12.2", "cu102", 1, "PTX crosses into Tegra [BIN][PTX]; the driver supports 12.2 >= 10.2"},
		{"Xavier gpu=7.2,cuda=11.4", "cu102", 0, "sm_70 is desktop code, Xavier integrated [BIN]; compute_75 > 7.2 [PTX]"},
		// CUDA 11.8: SASS from 450.80.02, PTX from 520.61.05.
		{"V100 gpu=7.0,driver=418.87.01", "cu118", 0, "R418 < 450.80.02 [MINOR]"},
		{"T4 gpu=7.5,driver=440.33.01", "cu118", 0, "R440 < 450.80.02 [MINOR]"},
		{"V100 gpu=7.0,driver=470.82.01", "cu118", 1, "sm_70 [BIN], 470 >= 450.80.02 [MINOR]"},
		{"A100 gpu=8.0,driver=450.80.02", "cu118", 1, "sm_80 native, minor-version compatibility [MINOR]"},
		{"A10 gpu=8.6,driver=470.82.01", "cu118", 1, "sm_86 [CC][BIN]"},
		{"L4 gpu=8.9,driver=525.105.17", "cu118", 1, "sm_86 runs on 8.9 [BIN]"},
		{"H100 gpu=9.0,driver=525.60.13", "cu118", 1, "sm_90 [BIN], 525 >= 450.80.02 [MINOR]"},
		{"B200 gpu=10.0,driver=570.124.06", "cu118", 1, "compute_90 JIT for 10.0 [PTX], 570 >= 520.61.05 [TABLE3]"},
		{"RTX5090 gpu=12.0,driver=570.124.04", "cu118", 1, "compute_90 JIT for 12.0 [PTX]"},
		{"Orin gpu=8.7,cuda=12.2", "cu118", 0, "sm_80/sm_86 are desktop code [BIN]; compute_90 > 8.7 [PTX]"},
		{"Xavier gpu=7.2,cuda=11.4", "cu118", 0, "sm_70/sm_75 desktop [BIN]"},
		// CUDA 12.4: SASS from 525.60.13, PTX from 550.54.14.
		{"V100 gpu=7.0,driver=535.104.05", "cu124", 1, "sm_70 [BIN], 535 >= 525.60.13 [MINOR]"},
		{"V100 gpu=7.0,driver=470.82.01", "cu124", 0, "470 < 525.60.13 [MINOR]"},
		{"T4 gpu=7.5,driver=525.85.12", "cu124", 1, "sm_75 [BIN][MINOR]"},
		{"A100 gpu=8.0,driver=515.65.01", "cu124", 0, "515 < 525.60.13 [MINOR]"},
		{"A100 gpu=8.0,driver=535.129.03", "cu124", 1, "sm_80 [BIN][MINOR]"},
		{"H100 gpu=9.0,driver=525.60.13", "cu124", 1, "sm_90 native at the 12.x floor [MINOR]"},
		{"H100 gpu=9.0,driver=535.104.12", "cu124", 1, "native sm_90 before compute_90 [BIN]"},
		{"GH200 gpu=9.0,driver=535.129.03", "cu124", 1, "GH200 is 9.0 [CC]"},
		{"L4 gpu=8.9,driver=535.161.07", "cu124", 1, "sm_86 on 8.9 [BIN]; sm_87 is Tegra code [BIN]"},
		{"RTX4090 gpu=8.9,driver=545.29.06", "cu124", 1, "sm_86 on 8.9 [BIN]"},
		{"B200 gpu=10.0,driver=570.124.06", "cu124", 2, "no sm_10x: compute_90 JIT, 570 >= 550.54.14 [PTX][TABLE3]"},
		{"RTX5090 gpu=12.0,driver=570.124.04", "cu124", 2, "compute_90 JIT for 12.0 [PTX][TABLE3]"},
		{"Orin gpu=8.7,cuda=12.2", "cu124", 3, "sm_87 is Orin's own [CC][BIN], 12.2 driver runs 12.4 SASS [MINOR]"},
		{"Xavier gpu=7.2,cuda=11.4", "cu124", 0, "sm_70/sm_75 desktop, sm_87 > 7.2 [BIN]; 11.4 driver below 12.x"},
		{"H100 gpu=9.0,driver=535.104.12", "cu124-ptx", 0, "PTX from 12.4 needs 550.54.14, R535 is 12.2 [MINOR][TABLE3]"},
		{"H100 gpu=9.0,driver=550.54.15", "cu124-ptx", 1, "550.54.15 >= 550.54.14 [TABLE3]"},
		{"H100 gpu=9.0,cuda=12.2", "cu124-ptx", 0, "a driver that supports only 12.2 cannot JIT 12.4 PTX [MINOR]"},
		{"H100 gpu=9.0", "cu124-ptx", 1, "hand-written profile without driver: taken to be new enough (DESIGN.md §3)"},
		// CUDA 12.8: SASS from 525.60.13, PTX from 570.26.
		{"RTX5090 gpu=12.0,driver=570.124.04", "cu128", 1, "sm_120 [CC][BIN]"},
		{"B200 gpu=10.0,driver=570.124.06", "cu128", 1, "sm_100 [CC][BIN]"},
		{"H100 gpu=9.0,driver=550.54.15", "cu128", 1, "sm_90 native on an older 12.x driver [MINOR]"},
		{"T4 gpu=7.5,driver=525.85.12", "cu128", 1, "sm_75 [BIN][MINOR]"},
		{"L4 gpu=8.9,driver=550.90.07", "cu128", 1, "sm_89 [CC][BIN]"},
		{"V100 gpu=7.0,driver=535.104.05", "cu128", 0, "no sm_70, compute_120 > 7.0 [BIN][PTX]"},
		{"A10 gpu=8.6,driver=470.82.01", "cu128", 0, "470 < 525.60.13 [MINOR]"},
		{"Orin gpu=8.7,cuda=12.6", "cu128", 0, "desktop SASS only [BIN], compute_120 > 8.7 [PTX]"},
		// CUDA 12.9: arch- and family-specific code; PTX from 575.51.03.
		{"H100 gpu=9.0,driver=570.86.15", "cu129", 1, "sm_90a runs on exactly 9.0 and ranks before plain sm_90 [PTX]"},
		{"GH200 gpu=9.0,driver=560.35.03", "cu129", 1, "sm_90a native on an older 12.x driver [MINOR]"},
		{"B200 gpu=10.0,driver=575.57.08", "cu129", 2, "sm_100f runs within 10.x [PTX]"},
		{"B200 gpu=10.0,driver=570.124.06", "cu129", 2, "native sm_100f, 570 >= 525.60.13 [MINOR]"},
		{"RTX5090 gpu=12.0,driver=570.124.04", "cu129", 0, "sm_90a/sm_100f/sm_90 not 12.0 [PTX][BIN]; compute_90 from 12.9 needs 575.51.03 [TABLE3]"},
		{"RTX5090 gpu=12.0,driver=575.64", "cu129", 3, "compute_90 JIT for 12.0, 575.64 >= 575.51.03 [TABLE3]"},
		{"A100 gpu=8.0,driver=535.129.03", "cu129", 3, "sm_80 [BIN][MINOR]"},
		{"L4 gpu=8.9,driver=550.90.07", "cu129", 3, "sm_80 runs on 8.9 [BIN]"},
		{"V100 gpu=7.0,driver=535.104.05", "cu129", 0, "nothing for 7.0 [BIN][PTX]"},
	} {
		name := tc.host + " × " + tc.index
		t.Run(name, func(t *testing.T) {
			_, spec, _ := strings.Cut(tc.host, " ")
			var entries []v1.Descriptor
			for i, ann := range cudaIndexes[tc.index] {
				entries = append(entries, desc(tc.index+string(rune('0'+i)), "linux/amd64", ann))
			}
			best, all, err := Best(entries, mustProfile(t, "cpu=x86_64_v3,"+spec))
			var no *NoMatchError
			if err != nil && !errors.As(err, &no) {
				t.Fatal(err)
			}
			if best.Index != tc.want {
				t.Errorf("Best(%s) = entry %d, want %d (%s); verdicts:\n%s", name, best.Index, tc.want, tc.why, explainAll(all))
			}
		})
	}
}

func explainAll(cs []Candidate) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString("  " + details(c) + "\n")
	}
	return b.String()
}

// TestMatchCUDAAssumed: a GPU without driver version (a hand-written
// profile) fits on the assumption of a new enough driver, and the check
// says it was assumed; a GPU with a driver is judged on it.
func TestMatchCUDAAssumed(t *testing.T) {
	entries := []v1.Descriptor{desc("g", "linux/amd64", ""), desc("p", "linux/amd64", "cuda.arch=compute_90;cuda.version=12.4")}
	for spec, want := range map[string]bool{"cpu=x86_64_v3,gpu=9.0": true, "cpu=x86_64_v3,gpu=9.0,driver=550.54.15": false} {
		best, _, err := Best(entries, mustProfile(t, spec))
		if err != nil || best.Index != 1 {
			t.Fatalf("Best(%s) = %d, %v; want entry 1", spec, best.Index, err)
		}
		var assumed bool
		for _, c := range best.Checks {
			if c.Requirement == CheckCUDADriver {
				assumed = c.Assumed
			}
		}
		if assumed != want {
			t.Errorf("Best(%s): cuda-driver check assumed = %v, want %v (%s)", spec, assumed, want, details(best))
		}
	}
}
