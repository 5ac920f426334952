package x86isa

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeTable(t *testing.T) {
	const pc = 0x401000
	cases := []struct {
		asm, code string
		needs     Features
		flow      Flow
	}{
		{"vmovdqa (%rax),%ymm0", "c5 fd 6f 00", AVX, FlowNext},
		{"vpaddd %ymm1,%ymm0,%ymm0", "c5 fd fe c1", AVX2, FlowNext},
		{"vpaddd %xmm1,%xmm0,%xmm0", "c5 f9 fe c1", AVX, FlowNext},
		{"vpbroadcastd %xmm0,%ymm0", "c4 e2 7d 58 c0", AVX2, FlowNext},
		{"vaddps %zmm1,%zmm0,%zmm0", "62 f1 7c 48 58 c1", AVX512F, FlowNext},
		{"vfmadd213pd %xmm2,%xmm1,%xmm0", "c4 e2 f1 a8 c2", FMA, FlowNext},
		{"vcvtph2ps %xmm1,%ymm0", "c4 e2 7d 13 c1", F16C, FlowNext},
		{"vzeroupper", "c5 f8 77", AVX, FlowNext},
		{"kmovw %k1,%k0", "c5 f8 90 c1", AVX512F, FlowNext},
		{"andn %ecx,%eax,%eax", "c4 e2 78 f2 c1", BMI1, FlowNext},
		{"rorx $5,%rax,%rax", "c4 e3 fb f0 c0 05", BMI2, FlowNext},
		{"popcnt %eax,%eax", "f3 0f b8 c0", POPCNT, FlowNext},
		{"femms (OpenBLAS's Opteron kernels)", "0f 0e", ThreeDNow, FlowNext},
		{"vpopcntd %zmm1,%zmm2", "62 f2 7d 48 55 d1", AVX512F | AVX512VPOPCNTDQ, FlowNext},
		{"vpopcntq %ymm1,%ymm2", "62 f2 fd 28 55 d1", AVX512F | AVX512VPOPCNTDQ | AVX512VL, FlowNext},
		{"vaddph %zmm1,%zmm2,%zmm3", "62 f5 6c 48 58 d9", AVX512F | AVX512FP16, FlowNext},
		{"vpaddb %zmm1,%zmm2,%zmm3", "62 f1 6d 48 fc d9", AVX512F | AVX512BW, FlowNext},
		{"kmovb %k1,%k2", "c5 f9 90 d1", AVX512F | AVX512DQ, FlowNext},
		{"tdpbssd %tmm1,%tmm2,%tmm3", "c4 e2 73 5e da", AMXTile | AMXINT8, FlowNext},
		{"tzcnt %eax,%eax (bsf elsewhere)", "f3 0f bc c0", 0, FlowNext},
		{"lzcnt %eax,%eax", "f3 0f bd c0", ABM, FlowNext},
		{"cmpxchg16b (%rsi)", "48 0f c7 0e", CX16, FlowNext},
		{"cmpxchg8b (%rsi)", "0f c7 0e", 0, FlowNext},
		{"pshufb %xmm1,%xmm0", "66 0f 38 00 c1", SSSE3, FlowNext},
		{"palignr $8,%xmm1,%xmm0", "66 0f 3a 0f c1 08", SSSE3, FlowNext},
		{"pmulld %xmm1,%xmm0", "66 0f 38 40 c1", SSE41, FlowNext},
		{"crc32l %ecx,%eax", "f2 0f 38 f1 c1", SSE42, FlowNext},
		{"movbe (%rax),%eax", "0f 38 f0 00", MOVBE, FlowNext},
		{"haddpd %xmm1,%xmm0", "66 0f 7c c1", SSE3, FlowNext},
		{"lahf", "9f", LAHFLM, FlowNext},
		{"xgetbv", "0f 01 d0", 0, FlowNext},
		{"xsave (%rcx)", "0f ae 21", 0, FlowNext},
		{"clflushopt (%rax)", "66 0f ae 38", CLFLUSHOPT, FlowNext},
		{"aesenc %xmm1,%xmm0", "66 0f 38 dc c1", AES, FlowNext},
		{"vaesenc %ymm1,%ymm0,%ymm0", "c4 e2 7d dc c1", VAES | AVX, FlowNext},
		{"rdrand %eax", "0f c7 f0", RDRAND, FlowNext},
		{"addsd %xmm1,%xmm0", "f2 0f 58 c1", 0, FlowNext},
		{"movabs $0x1122334455667788,%rax", "48 b8 88 77 66 55 44 33 22 11", 0, FlowNext},
		{"ret", "c3", 0, FlowReturn},
		{"ud2", "0f 0b", 0, FlowStop},
		{"jmp *%rax", "ff e0", 0, FlowIndirect},
		{"call *0x10(%rip)", "ff 15 10 00 00 00", 0, FlowCall},
		{"endbr64", "f3 0f 1e fa", 0, FlowNext},
		{"nopw 0x0(%rax,%rax,1)", "66 0f 1f 44 00 00", 0, FlowNext},
		{"xop vpcmov", "8f e8 78 a2 c1 20", XOP, FlowNext},
		{"pop (%rax)", "8f 00", 0, FlowNext},
	}
	for _, c := range cases {
		code := mustHex(t, c.code)
		in, err := Decode(append(code, 0x90, 0x90), pc)
		if err != nil {
			t.Errorf("%s: %v", c.asm, err)
			continue
		}
		if in.Len != len(code) || in.Needs != c.needs || in.Flow != c.flow {
			t.Errorf("%s: len %d needs %v flow %d; want %d, %v, %d", c.asm, in.Len, in.Needs, in.Flow, len(code), c.needs, c.flow)
		}
	}
}

func TestDecodeTargets(t *testing.T) {
	const pc = 0x401000
	cases := []struct {
		asm, code    string
		target, ref  uint64
		isTgt, isRef bool
	}{
		{"call pc+5+0x10", "e8 10 00 00 00", pc + 5 + 0x10, 0, true, false},
		{"jmp pc+2-2", "eb fe", pc, 0, true, false},
		{"je rel32 back", "0f 84 f0 ff ff ff", pc + 6 - 16, 0, true, false},
		{"lea 0x10(%rip),%rdi", "48 8d 3d 10 00 00 00", 0, pc + 7 + 0x10, false, true},
		{"mov $0x401500,%edi", "bf 00 15 40 00", 0, 0x401500, false, true},
		{"mov $main,%rdi (sign-extended imm32)", "48 c7 c7 00 15 40 00", 0, 0x401500, false, true},
		{"push $0x401500", "68 00 15 40 00", 0, 0x401500, false, true},
	}
	for _, c := range cases {
		in, err := Decode(mustHex(t, c.code), pc)
		if err != nil {
			t.Fatalf("%s: %v", c.asm, err)
		}
		if in.HasTarget != c.isTgt || in.Target != c.target || in.HasRef != c.isRef || in.Ref != c.ref {
			t.Errorf("%s: target %v %#x ref %v %#x; want %v %#x, %v %#x", c.asm, in.HasTarget, in.Target, in.HasRef, in.Ref, c.isTgt, c.target, c.isRef, c.ref)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]error{
		"c5":          ErrTruncated,
		"0f":          ErrTruncated,
		"e8 00 00":    ErrTruncated,
		"48 8d 3d 10": ErrTruncated,
		"06":          ErrInvalid,
		"66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90": ErrInvalid,
		"62 f0 7c 48 58 c1": ErrInvalid, // EVEX map 0
		"":                  ErrTruncated,
	}
	for code, want := range cases {
		if _, err := Decode(mustHex(t, code), 0); !errors.Is(err, want) {
			t.Errorf("Decode(%s) = %v, want %v", code, err, want)
		}
	}
}

func TestFeatureNames(t *testing.T) {
	if got := (AVX2 | SSE41 | AVX512F).String(); got != "sse4_1,avx2,avx512f" {
		t.Errorf("String() = %q", got)
	}
	n := 0
	(AVX | FMA | BMI2).Each(func(Features) { n++ })
	if n != 3 {
		t.Errorf("Each visited %d, want 3", n)
	}
	for i, name := range featureNames {
		if name == "" {
			t.Errorf("feature bit %d has no name", i)
		}
	}
}

// FuzzDecode: any bytes decode to an error or to an instruction of 1 to 15
// bytes within the input, never a panic.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"c5fd6f00", "62f17c4858c1", "f30fb8c0", "488d3d10000000", "8fe878a2c120", "0f0f0000b4", "c4e37d1900ff"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, code []byte) {
		in, err := Decode(code, 0x1000)
		if err != nil {
			return
		}
		if in.Len < 1 || in.Len > maxLen || in.Len > len(code) {
			t.Fatalf("Decode(%x) length %d", code, in.Len)
		}
	})
}
