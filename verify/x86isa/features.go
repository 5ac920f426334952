package x86isa

import (
	"math/bits"
	"strings"
)

// Features is a set of ISA extensions.
type Features uint64

// The extensions told apart, by their catalog (Linux /proc/cpuinfo) names.
const (
	SSE3 Features = 1 << iota
	SSSE3
	SSE41
	SSE42
	POPCNT
	CX16
	LAHFLM
	ABM // LZCNT
	MOVBE
	AVX
	AVX2
	FMA
	F16C
	BMI1
	BMI2
	AVX512F
	AES
	PCLMULQDQ
	VAES
	VPCLMULQDQ
	SHA
	GFNI
	ADX
	RDRAND
	RDSEED
	RDPID
	CLFLUSHOPT
	CLWB
	MOVDIRI
	MOVDIR64B
	AVXVNNI
	AMXTile
	SSE4A
	XOP
	FMA4
	TBM
	ThreeDNow
	AVX512CD
	AVX512BW
	AVX512DQ
	AVX512VL
	AVX512IFMA
	AVX512VBMI
	AVX512VBMI2
	AVX512VNNI
	AVX512BITALG
	AVX512VPOPCNTDQ
	AVX512BF16
	AVX512FP16
	AVX512VP2INTERSECT
	AMXBF16
	AMXINT8
	numFeatures = iota
)

// featureNames are the names of the bits, in bit order.
var featureNames = [numFeatures]string{
	"sse3", "ssse3", "sse4_1", "sse4_2", "popcnt", "cx16", "lahf_lm", "abm", "movbe",
	"avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "avx512f",
	"aes", "pclmulqdq", "vaes", "vpclmulqdq", "sha_ni", "gfni", "adx",
	"rdrand", "rdseed", "rdpid", "clflushopt", "clwb", "movdiri", "movdir64b",
	"avx_vnni", "amx_tile", "sse4a", "xop", "fma4", "tbm", "3dnow",
	"avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512ifma", "avx512vbmi",
	"avx512_vbmi2", "avx512_vnni", "avx512_bitalg", "avx512_vpopcntdq", "avx512_bf16",
	"avx512_fp16", "avx512_vp2intersect", "amx_bf16", "amx_int8",
}

// Names returns the names of the set, in bit order (roughly: oldest first).
func (f Features) Names() []string {
	out := make([]string, 0, bits.OnesCount64(uint64(f)))
	for i, n := range featureNames {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// String is the names joined by commas.
func (f Features) String() string { return strings.Join(f.Names(), ",") }

// Each calls fn with every feature of the set, one bit at a time.
func (f Features) Each(fn func(Features)) {
	for f != 0 {
		b := f & -f
		fn(b)
		f &^= b
	}
}

// legacy0F classifies a legacy (non-VEX) two-byte opcode 0F op with
// mandatory prefix pp.
func legacy0F(op byte, pp int, rex, modrm byte) Features {
	mod, reg := modrm>>6, modrm>>3&7
	switch op {
	case 0x7c, 0x7d: // haddpd/ps, hsubpd/ps
		if pp == pp66 || pp == ppF2 {
			return SSE3
		}
	case 0xd0: // addsubpd/ps
		if pp == pp66 || pp == ppF2 {
			return SSE3
		}
	case 0xf0: // lddqu
		if pp == ppF2 {
			return SSE3
		}
	case 0x12: // movddup, movsldup
		if pp == ppF2 || pp == ppF3 {
			return SSE3
		}
	case 0x16: // movshdup
		if pp == ppF3 {
			return SSE3
		}
	case 0xb8: // popcnt (F3); jmpe otherwise
		if pp == ppF3 {
			return POPCNT
		}
	case 0xbd: // lzcnt (F3) is bsr elsewhere, with another result
		if pp == ppF3 {
			return ABM
		}
	case 0xc7: // group 9
		switch {
		case reg == 1 && mod != 3 && rex&8 != 0:
			return CX16
		case reg == 6 && mod == 3 && pp != ppF3:
			return RDRAND
		case reg == 7 && mod == 3 && pp == ppF3:
			return RDPID
		case reg == 7 && mod == 3:
			return RDSEED
		}
	case 0xae: // group 15
		switch {
		case pp == pp66 && reg == 7 && mod != 3:
			return CLFLUSHOPT
		case pp == pp66 && reg == 6 && mod != 3:
			return CLWB
		}
	}
	return 0
}

// legacy0F38 classifies a legacy opcode 0F 38 op. rep is the F2/F3 prefix
// given, opsize whether 66 was.
func legacy0F38(op byte, pp, rep int, opsize bool) Features {
	switch {
	case op <= 0x0b || op >= 0x1c && op <= 0x1e: // pshufb ... pabs: MMX or 66 forms
		return SSSE3
	case op == 0x37 && pp == pp66:
		return SSE42
	case pp == pp66 && (op == 0x10 || op == 0x14 || op == 0x15 || op == 0x17 || op >= 0x20 && op <= 0x25 ||
		op >= 0x28 && op <= 0x2b || op >= 0x30 && op <= 0x35 || op >= 0x38 && op <= 0x41):
		return SSE41
	case op >= 0xc8 && op <= 0xcd && pp == ppNone:
		return SHA
	case op == 0xcf && pp == pp66:
		return GFNI
	case op >= 0xdb && op <= 0xdf && pp == pp66:
		return AES
	case op == 0xf0 || op == 0xf1:
		if rep == ppF2 {
			return SSE42 // crc32
		}
		if rep == 0 {
			return MOVBE
		}
	case op == 0xf6 && (pp == pp66 || pp == ppF3):
		return ADX
	case op == 0xf8 && pp == pp66:
		return MOVDIR64B
	case op == 0xf9 && pp == ppNone:
		return MOVDIRI
	}
	return 0
}

// legacy0F3A classifies a legacy opcode 0F 3A op.
func legacy0F3A(op byte, pp int) Features {
	switch {
	case op == 0x0f: // palignr, MMX or 66
		return SSSE3
	case pp == pp66 && (op >= 0x08 && op <= 0x0e || op >= 0x14 && op <= 0x17 || op >= 0x20 && op <= 0x22 || op >= 0x40 && op <= 0x42):
		return SSE41
	case pp == pp66 && op == 0x44:
		return PCLMULQDQ
	case pp == pp66 && op >= 0x60 && op <= 0x63:
		return SSE42
	case pp == pp66 && (op == 0xce || op == 0xcf):
		return GFNI
	case pp == pp66 && op == 0xdf:
		return AES
	case pp == ppNone && op == 0xcc:
		return SHA
	}
	return 0
}

// vexNeeds classifies a VEX-encoded instruction of map mmap, opcode op,
// prefix pp, 256-bit when l, W when w.
func vexNeeds(mmap int, op byte, pp int, l, w bool, modrm byte) Features {
	switch mmap {
	case map0F:
		return vexMap1(op, pp, l, w)
	case map0F38:
		return vexMap2(op, pp, l, w, modrm)
	case map0F3A:
		return vexMap3(op, pp, l, w)
	}
	return AVX
}

// vexMap1: opmask instructions are AVX-512; 256-bit forms of the SSE2
// integer instructions are AVX2; everything else is AVX.
func vexMap1(op byte, pp int, l, w bool) Features {
	switch {
	case op >= 0x41 && op <= 0x4b, op >= 0x90 && op <= 0x93, op == 0x98, op == 0x99:
		return opmask(op, pp, w) // kand, kmov, kortest, ...
	case !l:
		return AVX
	case op == 0x70 && pp != ppNone: // vpshufd/hw/lw
		return AVX2
	case pp == pp66 && (op >= 0x60 && op <= 0x6d || op >= 0x71 && op <= 0x76 ||
		op >= 0xd1 && op <= 0xd5 || op >= 0xd7 && op <= 0xdf || op >= 0xe0 && op <= 0xe5 ||
		op >= 0xe8 && op <= 0xef || op >= 0xf1 && op <= 0xf6 || op >= 0xf8 && op <= 0xfe):
		return AVX2
	}
	return AVX
}

func vexMap2(op byte, pp int, l, w bool, modrm byte) Features {
	switch op {
	case 0xf2: // andn
		return BMI1
	case 0xf3: // blsr, blsmsk, blsi
		return BMI1
	case 0xf5: // bzhi, pext, pdep
		return BMI2
	case 0xf6: // mulx
		return BMI2
	case 0xf7: // bextr (none); shlx, sarx, shrx
		if pp == ppNone {
			return BMI1
		}
		return BMI2
	}
	switch op {
	case 0x49, 0x4b:
		return AMXTile // ldtilecfg, sttilecfg, tilerelease, tilezero, tileloadd, tilestored
	case 0x5c:
		return AMXTile | AMXBF16 // tdpbf16ps
	case 0x5e:
		return AMXTile | AMXINT8 // tdpbssd, tdpbsud, tdpbusd, tdpbuud
	}
	if pp == ppF3 || pp == ppF2 {
		return AVX // vcvtneps2bf16 and the like: AVX at least
	}
	switch {
	case op == 0x13:
		return F16C
	case op >= 0x96 && op <= 0x9f, op >= 0xa6 && op <= 0xaf, op >= 0xb6 && op <= 0xbf:
		return FMA
	case op >= 0xdb && op <= 0xdf:
		if l {
			return VAES | AVX
		}
		return AES | AVX
	case op == 0xcf:
		return GFNI | AVX
	case op >= 0x50 && op <= 0x53:
		return AVXVNNI
	case op == 0x16, op == 0x36, op >= 0x45 && op <= 0x47, op >= 0x58 && op <= 0x5a,
		op == 0x78, op == 0x79, op == 0x8c, op == 0x8e, op >= 0x90 && op <= 0x93:
		return AVX2 // vpermps, vpermd, vpsllv..., broadcasts, vpmaskmov, gathers
	case (op == 0x18 || op == 0x19) && modrm>>6 == 3:
		return AVX2 // broadcast from a register
	case l && (op <= 0x0b || op >= 0x1c && op <= 0x1e || op >= 0x20 && op <= 0x25 ||
		op >= 0x28 && op <= 0x2b || op >= 0x30 && op <= 0x35 || op >= 0x37 && op <= 0x40):
		return AVX2
	}
	return AVX
}

func vexMap3(op byte, pp int, l, w bool) Features {
	switch {
	case op >= 0x30 && op <= 0x33: // kshiftr, kshiftl
		if op&1 == 0 && !w {
			return AVX512F | AVX512DQ // kshiftrb, kshiftlb
		}
		if op&1 == 0 {
			return AVX512F // kshiftrw, kshiftlw
		}
		return AVX512F | AVX512BW // d, q
	case op == 0xf0 && pp == ppF2: // rorx
		return BMI2
	case op == 0x1d:
		return F16C
	case op == 0x00 || op == 0x01 || op == 0x02 || op == 0x38 || op == 0x39 || op == 0x46:
		return AVX2 // vpermq, vpermpd, vpblendd, vinserti128, vextracti128, vperm2i128
	case l && (op == 0x0e || op == 0x0f || op == 0x42 || op == 0x4c):
		return AVX2
	case op == 0x44:
		if l {
			return VPCLMULQDQ | AVX
		}
		return PCLMULQDQ | AVX
	case op == 0xdf:
		return AES | AVX
	case op == 0xce || op == 0xcf:
		return GFNI | AVX
	case op == 0x5c || op >= 0x5d && op <= 0x5f || op >= 0x68 && op <= 0x6f || op >= 0x78 && op <= 0x7f:
		return FMA4
	}
	return AVX
}

// opmask classifies the VEX-encoded opmask instructions (0F 41-4B, 90-93,
// 98, 99) by their operand size: the word forms are AVX512F, the byte
// forms AVX512DQ, the doubleword and quadword forms AVX512BW.
func opmask(op byte, pp int, w bool) Features {
	switch {
	case op == 0x4b: // kunpckbw (66 W0), kunpckwd (W0), kunpckdq (W1)
		if pp == pp66 {
			return AVX512F
		}
		return AVX512F | AVX512BW
	case (op == 0x92 || op == 0x93) && pp == ppF2: // kmovd, kmovq with a GPR
		return AVX512F | AVX512BW
	case pp == pp66 && !w: // byte
		return AVX512F | AVX512DQ
	case w: // doubleword (66 W1), quadword (W1)
		return AVX512F | AVX512BW
	case op == 0x4a || op == 0x99: // kaddw, ktestw
		return AVX512F | AVX512DQ
	}
	return AVX512F // word
}
