//go:build amd64

package detect

import (
	"slices"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestProbeCPUIDCrossCheck compares the live probe with golang.org/x/sys/cpu
// on the bits both read (x/sys/cpu applies the same OS-state rules).
func TestProbeCPUIDCrossCheck(t *testing.T) {
	c, ok := ProbeCPUID()
	if !ok {
		t.Fatal("ProbeCPUID on amd64: not ok")
	}
	fs := c.Features()
	for name, has := range map[string]bool{
		"sse2": cpu.X86.HasSSE2, "pni": cpu.X86.HasSSE3, "ssse3": cpu.X86.HasSSSE3,
		"sse4_1": cpu.X86.HasSSE41, "sse4_2": cpu.X86.HasSSE42, "popcnt": cpu.X86.HasPOPCNT,
		"aes": cpu.X86.HasAES, "pclmulqdq": cpu.X86.HasPCLMULQDQ, "fma": cpu.X86.HasFMA,
		"avx": cpu.X86.HasAVX, "avx2": cpu.X86.HasAVX2, "bmi1": cpu.X86.HasBMI1, "bmi2": cpu.X86.HasBMI2,
		"erms": cpu.X86.HasERMS, "adx": cpu.X86.HasADX, "rdrand": cpu.X86.HasRDRAND, "rdseed": cpu.X86.HasRDSEED,
		"avx512f": cpu.X86.HasAVX512F, "avx512bw": cpu.X86.HasAVX512BW, "avx512vl": cpu.X86.HasAVX512VL,
		"avx512dq": cpu.X86.HasAVX512DQ, "avx512cd": cpu.X86.HasAVX512CD, "avx512_vnni": cpu.X86.HasAVX512VNNI,
		"avx512_bf16": cpu.X86.HasAVX512BF16, "amx_tile": cpu.X86.HasAMXTile, "avx_vnni": cpu.X86.HasAVXVNNI,
	} {
		if slices.Contains(fs, name) != has {
			t.Errorf("%s: probe says %v, golang.org/x/sys/cpu %v", name, !has, has)
		}
	}
	if _, err := c.Info(); err != nil {
		t.Errorf("Info of the live CPU: %v", err)
	}
}
