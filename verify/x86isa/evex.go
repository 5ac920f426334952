package x86isa

// The AVX-512 subsets of EVEX-encoded instructions, as the Intel SDM
// lists each instruction's CPUID flag: AVX512F unless the table says
// otherwise, AVX512VL for a 128- or 256-bit form of a vector
// instruction, and the extension of the newer instructions (VBMI2,
// VPOPCNTDQ, FP16, ...). A vpopcntdq build needs avx512_vpopcntdq, which
// skylake_avx512 lacks: the subsets decide which targets may run it.

// evexFields are the fields of an EVEX instruction that decide its subset.
type evexFields struct {
	mmap     int
	op       byte
	pp       int
	w        bool
	ll       byte // vector length: 0 128, 1 256, 2 512 bits
	b        bool // broadcast, or (register operands) rounding control
	mod, reg byte // ModRM mod and reg (the group's opcode extension)
}

// needs is the instruction's subset, with AVX512F (every AVX-512 CPU has
// it) and AVX512VL where the vector length needs it.
func (e evexFields) needs() Features {
	var f Features
	switch e.mmap {
	case map0F:
		f = e.map1()
	case map0F38:
		f = e.map2()
	case map0F3A:
		f = e.map3()
	case 5, 6: // the FP16 maps
		f = AVX512FP16
	}
	f |= AVX512F
	if e.ll < 2 && !(e.mod == 3 && e.b) && !e.scalar() {
		f |= AVX512VL
	}
	return f
}

// scalar reports whether the instruction works on one element or a
// general register whatever its vector length (no VL).
func (e evexFields) scalar() bool {
	switch e.mmap {
	case map0F:
		if e.pp == ppF3 || e.pp == ppF2 {
			switch e.op {
			case 0x10, 0x11, 0x2a, 0x2c, 0x2d, 0x51, 0x58, 0x59, 0x5a, 0x5c, 0x5d, 0x5e, 0x5f, 0x78, 0x79, 0x7b, 0x7e, 0xc2:
				return true
			}
			return false
		}
		switch e.op {
		case 0x2e, 0x2f, 0x6e, 0x7e, 0xd6, 0xc4, 0xc5:
			return true
		case 0x12, 0x13, 0x16, 0x17: // movlps/pd, movhps/pd, movhlps, movlhps: 128-bit only
			return true
		}
	case map0F38:
		switch e.op {
		case 0x2d, 0x43, 0x4d, 0x4f, 0x99, 0x9b, 0x9d, 0x9f, 0xa9, 0xab, 0xad, 0xaf, 0xb9, 0xbb, 0xbd, 0xbf, 0xcb, 0xcd:
			return true
		}
	case map0F3A:
		switch e.op {
		case 0x0a, 0x0b, 0x14, 0x15, 0x16, 0x17, 0x20, 0x21, 0x22, 0x27, 0x51, 0x55, 0x57, 0x67:
			return true
		}
	case 5, 6:
		return e.pp == ppF3 && e.mmap == 5 && (e.op == 0x10 || e.op == 0x11 || e.op >= 0x51 && e.op <= 0x5f)
	}
	return false
}

func (e evexFields) map1() Features {
	op := e.op
	switch {
	case op >= 0x54 && op <= 0x57: // vandps, vandnps, vorps, vxorps
		return AVX512DQ
	case op == 0x5b && e.pp == ppNone && e.w: // vcvtqq2ps
		return AVX512DQ
	case op == 0x6f || op == 0x7f:
		if e.pp == ppF2 { // vmovdqu8, vmovdqu16
			return AVX512BW
		}
		return 0
	case op == 0x70:
		if e.pp == ppF3 || e.pp == ppF2 { // vpshufhw, vpshuflw
			return AVX512BW
		}
		return 0
	case op == 0x71: // vpsrlw, vpsraw, vpsllw $imm
		return AVX512BW
	case op == 0x73 && (e.reg == 3 || e.reg == 7): // vpsrldq, vpslldq
		return AVX512BW
	case op == 0x78 || op == 0x79:
		if e.pp == pp66 { // vcvttpd2uqq, vcvtpd2uqq, ...
			return AVX512DQ
		}
		return 0
	case op == 0x7a:
		if e.pp == pp66 || e.w && e.pp != ppNone { // vcvttpd2qq; vcvtuqq2pd, vcvtuqq2ps
			return AVX512DQ
		}
		return 0
	case op == 0x7b:
		if e.pp == pp66 { // vcvtpd2qq, vcvtps2qq
			return AVX512DQ
		}
		return 0
	case op == 0xe6 && e.pp == ppF3 && e.w: // vcvtqq2pd
		return AVX512DQ
	case e.pp == pp66 && map1BW[op]:
		return AVX512BW
	}
	return 0
}

// map1BW are the 66 0F opcodes of byte and word integer instructions.
var map1BW = func() (m [256]bool) {
	for _, op := range []byte{0x60, 0x61, 0x63, 0x64, 0x65, 0x67, 0x68, 0x69, 0x6b, 0x74, 0x75,
		0xc4, 0xc5, 0xd1, 0xd5, 0xd8, 0xd9, 0xda, 0xdc, 0xdd, 0xde, 0xe0, 0xe1, 0xe3, 0xe4, 0xe5,
		0xe8, 0xe9, 0xea, 0xec, 0xed, 0xee, 0xf1, 0xf5, 0xf6, 0xf8, 0xf9, 0xfc, 0xfd} {
		m[op] = true
	}
	return m
}()

func (e evexFields) map2() Features {
	op, w := e.op, e.w
	switch e.pp {
	case ppF3:
		switch op {
		case 0x10, 0x20, 0x30: // vpmovuswb, vpmovswb, vpmovwb
			return AVX512BW
		case 0x26, 0x28, 0x29: // vptestnmb/w, vpmovm2b/w, vpmovb2m/w2m
			return AVX512BW
		case 0x38, 0x39: // vpmovm2d/q, vpmovd2m/q2m
			return AVX512DQ
		case 0x2a, 0x3a: // vpbroadcastmb2q, vpbroadcastmw2d
			return AVX512CD
		case 0x52, 0x72: // vdpbf16ps, vcvtneps2bf16
			return AVX512BF16
		}
		return 0
	case ppF2:
		switch op {
		case 0x68: // vp2intersectd/q
			return AVX512VP2INTERSECT
		case 0x72: // vcvtne2ps2bf16
			return AVX512BF16
		}
		return 0
	case ppNone:
		return 0
	}
	switch op {
	case 0x00, 0x04, 0x0b, 0x1c, 0x1d, 0x20, 0x2b, 0x30, 0x38, 0x3a, 0x3c, 0x3e, 0x66, 0x78, 0x79, 0x7a, 0x7b:
		return AVX512BW
	case 0x10, 0x11, 0x12: // vpsrlvw, vpsravw, vpsllvw (W1)
		if w {
			return AVX512BW
		}
	case 0x26: // vptestmb/w
		return AVX512BW
	case 0x19, 0x1b, 0x59, 0x5b: // vbroadcastf32x2/x8, vbroadcasti32x2/x8 (W0)
		if !w {
			return AVX512DQ
		}
	case 0x1a, 0x5a: // vbroadcastf64x2, vbroadcasti64x2 (W1)
		if w {
			return AVX512DQ
		}
	case 0x40: // vpmullq (W1)
		if w {
			return AVX512DQ
		}
	case 0x44, 0xc4: // vplzcntd/q, vpconflictd/q
		return AVX512CD
	case 0x50, 0x51, 0x52, 0x53: // vpdpbusd(s), vpdpwssd(s)
		return AVX512VNNI
	case 0x54, 0x8f: // vpopcntb/w, vpshufbitqmb
		return AVX512BITALG
	case 0x55: // vpopcntd/q
		return AVX512VPOPCNTDQ
	case 0x62, 0x63, 0x70, 0x71, 0x72, 0x73: // vpexpandb/w, vpcompressb/w, vpshldv, vpshrdv
		return AVX512VBMI2
	case 0x75, 0x7d, 0x8d: // vpermi2b/w, vpermt2b/w, vpermb/w
		if w {
			return AVX512BW
		}
		return AVX512VBMI
	case 0x83: // vpmultishiftqb
		return AVX512VBMI
	case 0xb4, 0xb5: // vpmadd52luq, vpmadd52huq
		return AVX512IFMA
	case 0xcf: // vgf2p8mulb
		return GFNI
	case 0xdc, 0xdd, 0xde, 0xdf: // vaesenc, ...
		return VAES
	}
	return 0
}

func (e evexFields) map3() Features {
	op, w := e.op, e.w
	if e.pp == ppNone {
		switch op {
		case 0x08, 0x0a, 0x26, 0x27, 0x56, 0x57, 0x66, 0x67, 0xc2: // the FP16 forms
			return AVX512FP16
		}
		return 0
	}
	switch op {
	case 0x0f, 0x14, 0x15, 0x20, 0x3e, 0x3f, 0x42: // vpalignr, vpextrb/w, vpinsrb, vpcmp(u)b/w, vdbpsadbw
		return AVX512BW
	case 0x16, 0x22, 0x50, 0x51, 0x56, 0x57, 0x66, 0x67: // vpextrd/q, vpinsrd/q, vrange, vreduce, vfpclass
		return AVX512DQ
	case 0x18, 0x19, 0x38, 0x39: // vinsert/extract 64x2 (W1)
		if w {
			return AVX512DQ
		}
	case 0x1a, 0x1b, 0x3a, 0x3b: // vinsert/extract 32x8 (W0)
		if !w {
			return AVX512DQ
		}
	case 0x70, 0x71, 0x72, 0x73: // vpshldw/d/q, vpshrdw/d/q
		return AVX512VBMI2
	case 0x44: // vpclmulqdq
		return VPCLMULQDQ
	case 0xce, 0xcf: // vgf2p8affineqb, vgf2p8affineinvqb
		return GFNI
	}
	return 0
}
