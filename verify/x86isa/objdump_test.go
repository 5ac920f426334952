package x86isa

import (
	"bufio"
	"bytes"
	"debug/elf"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/internal/gcctest"
	"github.com/tailor-dev/tailor/internal/tooltest"
)

// objdumpLine is one instruction as objdump -d -w prints it.
type objdumpLine struct {
	addr uint64
	n    int
	text string
}

var lineRE = regexp.MustCompile(`^\s+([0-9a-f]+):\t((?:[0-9a-f]{2} )+)\s*\t(.*)$`)

func objdump(t *testing.T, path string) []objdumpLine {
	t.Helper()
	out, err := exec.Command(tooltest.Path(t, "objdump"), "-d", "-w", path).Output()
	if err != nil {
		t.Fatalf("objdump: %v", err)
	}
	var lines []objdumpLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		addr, _ := strconv.ParseUint(m[1], 16, 64)
		lines = append(lines, objdumpLine{addr, len(strings.Fields(m[2])), m[3]})
	}
	return lines
}

// expected derives, from objdump's text, extensions an instruction must
// be found to need (a partial check: the decoder knows more than these).
func expected(text string) Features {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return 0
	}
	mn := fields[0]
	var want Features
	switch {
	case strings.Contains(text, "%zmm") || strings.Contains(text, "{%k") || strings.HasPrefix(mn, "kmov"):
		want |= AVX512F
	case strings.HasPrefix(mn, "vfmadd") || strings.HasPrefix(mn, "vfmsub") || strings.HasPrefix(mn, "vfnmadd") || strings.HasPrefix(mn, "vfnmsub"):
		want |= FMA
	}
	switch mn {
	case "popcnt":
		want |= POPCNT
	case "lzcnt":
		want |= ABM
	case "andn", "bextr", "blsi", "blsr", "blsmsk":
		want |= BMI1
	case "bzhi", "pdep", "pext", "mulx", "rorx", "sarx", "shlx", "shrx":
		want |= BMI2
	case "movbe":
		want |= MOVBE
	case "pshufb", "palignr", "pmaddubsw", "pmulhrsw", "pabsb", "pabsw", "pabsd", "phaddd", "phaddw", "psignb":
		want |= SSSE3
	case "pminud", "pmaxud", "pminsd", "pmaxsd", "pmulld", "ptest", "pblendvb", "pcmpeqq", "pminub_never", "roundsd", "roundpd", "pmovzxbw", "pinsrd", "pextrd", "pinsrq", "pextrq", "packusdw":
		want |= SSE41
	case "pcmpistri", "pcmpgtq", "pcmpestri", "crc32b", "crc32l", "crc32q":
		want |= SSE42
	case "cmpxchg16b":
		want |= CX16
	}
	return want
}

// TestDecodeAgainstObjdump decodes every instruction objdump finds in
// static gcc builds (the program and all of static glibc, with its SSE2,
// SSE4, AVX2, EVEX and AVX-512 string functions) and compares lengths,
// and the extensions objdump's text implies.
func TestDecodeAgainstObjdump(t *testing.T) {
	for _, march := range []string{"x86-64", "x86-64-v3", "x86-64-v4"} {
		t.Run(march, func(t *testing.T) {
			bin := gcctest.Build(t, gcctest.Kernels(t), "kernels", march, "-static")
			f, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			lines := objdump(t, bin)
			if len(lines) < 10000 {
				t.Fatalf("objdump gave %d instructions, want a static binary's", len(lines))
			}
			mem := map[string][]byte{}
			var secs []*elf.Section
			for _, s := range f.Sections {
				if s.Flags&elf.SHF_EXECINSTR != 0 {
					data, err := s.Data()
					if err != nil {
						t.Fatal(err)
					}
					mem[s.Name] = data
					secs = append(secs, s)
				}
			}
			bad, classBad, vex := 0, 0, 0
			for _, l := range lines {
				var code []byte
				for _, s := range secs {
					if l.addr >= s.Addr && l.addr < s.Addr+s.Size {
						code = mem[s.Name][l.addr-s.Addr:]
					}
				}
				if code == nil {
					continue
				}
				in, err := Decode(code, l.addr)
				if strings.HasPrefix(l.text, "(bad)") || strings.HasPrefix(l.text, ".byte") {
					continue
				}
				if err != nil || in.Len != l.n {
					if bad++; bad <= 10 {
						t.Errorf("%#x %q: decoded length %d (%v), objdump %d", l.addr, l.text, in.Len, err, l.n)
					}
					continue
				}
				if want := expected(l.text); in.Needs&want != want {
					if classBad++; classBad <= 10 {
						t.Errorf("%#x %q: needs %v, want at least %v", l.addr, l.text, in.Needs, want)
					}
				}
				if strings.HasPrefix(l.text, "v") && in.Needs == 0 {
					if classBad++; classBad <= 10 {
						t.Errorf("%#x %q: a VEX/EVEX instruction needing nothing", l.addr, l.text)
					}
				}
				if strings.HasPrefix(l.text, "v") {
					vex++
				}
			}
			if bad > 0 || classBad > 0 {
				t.Errorf("%d length and %d extension mismatches in %d instructions", bad, classBad, len(lines))
			}
			t.Logf("%d instructions, %d VEX/EVEX, lengths and extensions agree", len(lines), vex)
			if vex < 1000 {
				t.Errorf("only %d VEX/EVEX instructions seen; static glibc has thousands", vex)
			}
		})
	}
}

// objdumpBytes is objdump -d -w's listing with each instruction's bytes.
type objdumpInst struct {
	objdumpLine
	code []byte
}

func objdumpWithBytes(t *testing.T, path string) []objdumpInst {
	t.Helper()
	out, err := exec.Command(tooltest.Path(t, "objdump"), "-d", "-w", path).Output()
	if err != nil {
		t.Fatalf("objdump: %v", err)
	}
	var insts []objdumpInst
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		addr, _ := strconv.ParseUint(m[1], 16, 64)
		var code []byte
		for _, h := range strings.Fields(m[2]) {
			v, _ := strconv.ParseUint(h, 16, 8)
			code = append(code, byte(v))
		}
		insts = append(insts, objdumpInst{objdumpLine{addr, len(code), m[3]}, code})
	}
	return insts
}

// subsetExpected is what an instruction must need, from objdump's text and
// whether it is EVEX-encoded, by the extension the Intel SDM names for
// its mnemonic: the AVX-512 subsets (AVX512VL for a 128- or 256-bit form
// of a vector instruction), AMX, VAES, GFNI, VPCLMULQDQ, SHA, ADX.
func subsetExpected(text string, evex bool) Features {
	fields := strings.Fields(strings.TrimPrefix(text, "{vex} "))
	if len(fields) == 0 {
		return 0
	}
	mn, ops := fields[0], strings.Join(fields[1:], " ")
	var want Features
	has := func(prefixes ...string) bool {
		for _, p := range prefixes {
			if strings.HasPrefix(mn, p) {
				return true
			}
		}
		return false
	}
	is := func(names ...string) bool {
		for _, n := range names {
			if mn == n {
				return true
			}
		}
		return false
	}
	if evex {
		want |= AVX512F
		fpScalar := (strings.HasSuffix(mn, "ss") || strings.HasSuffix(mn, "sd") || strings.HasSuffix(mn, "sh")) &&
			!has("vp", "vbroadcast")
		scalar := fpScalar || is("vmovd", "vmovq") ||
			has("vpinsr", "vpextr", "vcvtsi2", "vcvtusi2", "vcomis", "vucomis", "vextractps", "vinsertps", "vmovlp", "vmovhp", "vmovlhps", "vmovhlps") ||
			strings.Contains(mn, "2si") || strings.Contains(mn, "2usi")
		if !strings.Contains(ops, "%zmm") && !scalar && !strings.Contains(ops, "{r") && !strings.Contains(ops, "-sae}") {
			want |= AVX512VL
		}
		switch {
		case has("vpopcntd", "vpopcntq"):
			want |= AVX512VPOPCNTDQ
		case has("vpopcntb", "vpopcntw", "vpshufbitqmb"):
			want |= AVX512BITALG
		case has("vpdpbusd", "vpdpwssd"):
			want |= AVX512VNNI
		case has("vpshld", "vpshrd") || is("vpexpandb", "vpexpandw", "vpcompressb", "vpcompressw"):
			want |= AVX512VBMI2
		case is("vpermb", "vpermi2b", "vpermt2b", "vpmultishiftqb"):
			want |= AVX512VBMI
		case has("vpmadd52"):
			want |= AVX512IFMA
		case has("vcvtne2ps2bf16", "vcvtneps2bf16", "vdpbf16ps"):
			want |= AVX512BF16
		case is("vaddph", "vmulph", "vaddsh") || has("vfmadd231ph"):
			want |= AVX512FP16
		case has("vp2intersect"):
			want |= AVX512VP2INTERSECT
		case has("vpconflict", "vplzcnt", "vpbroadcastm"):
			want |= AVX512CD
		case has("vaes"):
			want |= VAES
		case has("vgf2p8"):
			want |= GFNI
		case has("vpclmul"):
			want |= VPCLMULQDQ
		case has("vpcmp") && (strings.HasSuffix(mn, "b") || strings.HasSuffix(mn, "w")):
			want |= AVX512BW // vpcmpeqb, vpcmpltub, ... (objdump names the predicate)
		case is("vpaddb", "vpaddw", "vpsubb", "vpsubw", "vpmullw", "vpshufb", "vpminub", "vpmaddwd", "vpacksswb", "vpunpcklbw",
			"vpavgb", "vpsadbw", "vpabsb", "vpabsw", "vmovdqu8", "vmovdqu16", "vpshufhw", "vpshuflw", "vpsrldq", "vpslldq", "vpsrlw", "vpsllw",
			"vpsraw", "vpsllvw", "vpsravw", "vpsrlvw", "vpblendmb", "vpblendmw", "vpcmpb", "vpcmpub", "vpcmpw", "vpcmpuw", "vdbpsadbw",
			"vpmovb2m", "vpmovw2m", "vpmovm2b", "vpmovm2w", "vptestmb", "vptestmw", "vptestnmb", "vptestnmw", "vpermw", "vpermi2w", "vpermt2w",
			"vpbroadcastb", "vpbroadcastw", "vpextrb", "vpextrw", "vpinsrb", "vpinsrw", "vpalignr"):
			want |= AVX512BW
		case is("vandps", "vandpd", "vorps", "vorpd", "vxorps", "vxorpd", "vandnps", "vandnpd", "vpmullq", "vpmovm2d", "vpmovm2q",
			"vpmovd2m", "vpmovq2m", "vextracti64x2", "vextractf64x2", "vinserti64x2", "vinsertf64x2", "vextracti32x8", "vextractf32x8",
			"vinserti32x8", "vinsertf32x8", "vpextrd", "vpextrq", "vpinsrd", "vpinsrq") || has("vrange", "vreduce", "vfpclass", "vcvtqq2", "vcvtuqq2") ||
			strings.HasSuffix(mn, "2qq") || strings.HasSuffix(mn, "2uqq"):
			want |= AVX512DQ
		}
		return want
	}
	switch {
	case is("kmovw", "kandw", "korw", "kxorw", "knotw", "kortestw", "kunpckbw") || has("kshiftlw", "kshiftrw"):
		want |= AVX512F
	case is("kmovb", "kandb", "korb", "kxorb", "knotb", "kortestb", "ktestb", "ktestw", "kaddb", "kaddw") || has("kshiftlb", "kshiftrb"):
		want |= AVX512F | AVX512DQ
	case has("kmovd", "kmovq", "kandd", "kandq", "kord", "korq", "kxord", "kxorq", "kortestd", "kortestq", "ktestd", "ktestq",
		"kaddd", "kaddq", "kunpckwd", "kunpckdq", "kshiftld", "kshiftrd", "kshiftlq", "kshiftrq"):
		want |= AVX512F | AVX512BW
	case has("tdpbssd", "tdpbsud", "tdpbusd", "tdpbuud"):
		want |= AMXTile | AMXINT8
	case has("tdpbf16ps"):
		want |= AMXTile | AMXBF16
	case has("ldtilecfg", "sttilecfg", "tileloadd", "tilestored", "tilezero", "tilerelease"):
		want |= AMXTile
	case has("vpdpbusd", "vpdpwssd"):
		want |= AVXVNNI
	case has("vaes") && strings.Contains(ops, "%ymm"):
		want |= VAES
	case has("vpclmul") && strings.Contains(ops, "%ymm"):
		want |= VPCLMULQDQ
	case has("gf2p8", "vgf2p8"):
		want |= GFNI
	case has("sha1", "sha256"):
		want |= SHA
	case is("adcx", "adox"):
		want |= ADX
	case is("vcvtph2ps", "vcvtps2ph"):
		want |= F16C
	}
	return want
}

// TestDecodeSubsetsAgainstObjdump: the AVX-512 subsets, AMX, VAES, GFNI,
// VPCLMULQDQ, SHA and ADX are told apart as binutils names the
// instructions, on code assembled by as (testdata/extensions.s: each
// instruction in its 512-, 256- and 128-bit forms) and on code gcc emits
// for -march=icelake-server and -march=sapphirerapids (static, so glibc's
// EVEX string functions are in it too): lengths agree, every instruction
// needs at least what its mnemonic says, and nothing more of the AVX-512
// subsets.
func TestDecodeSubsetsAgainstObjdump(t *testing.T) {
	as := tooltest.Path(t, "as")
	obj := t.TempDir() + "/extensions.o"
	if out, err := exec.Command(as, "-o", obj, "testdata/extensions.s").CombinedOutput(); err != nil {
		t.Fatalf("as: %v\n%s", err, out)
	}
	bins := map[string]string{"as testdata/extensions.s": obj}
	for _, march := range []string{"icelake-server", "sapphirerapids"} {
		bins["gcc -march="+march] = gcctest.Build(t, gcctest.Kernels(t), "kernels", march, "-static", "-mprefer-vector-width=512")
	}
	const subsets = AVX512CD | AVX512BW | AVX512DQ | AVX512VL | AVX512IFMA | AVX512VBMI | AVX512VBMI2 | AVX512VNNI |
		AVX512BITALG | AVX512VPOPCNTDQ | AVX512BF16 | AVX512FP16 | AVX512VP2INTERSECT
	for name, bin := range bins {
		t.Run(name, func(t *testing.T) {
			insts := objdumpWithBytes(t, bin)
			bad, evexSeen := 0, 0
			seen := Features(0)
			for _, l := range insts {
				if strings.HasPrefix(l.text, "(bad)") || strings.HasPrefix(l.text, ".byte") {
					continue
				}
				in, err := Decode(l.code, l.addr)
				if err != nil || in.Len != l.n {
					if bad++; bad <= 10 {
						t.Errorf("%#x %q: decoded length %d (%v), objdump %d", l.addr, l.text, in.Len, err, l.n)
					}
					continue
				}
				evex := l.code[0] == 0x62 || len(l.code) > 1 && isPrefix(l.code[0]) && l.code[1] == 0x62
				if evex {
					evexSeen++
				}
				want := subsetExpected(l.text, evex)
				seen |= in.Needs
				switch {
				case in.Needs&want != want:
					if bad++; bad <= 20 {
						t.Errorf("%#x %q (% x): needs %v, want at least %v", l.addr, l.text, l.code, in.Needs, want)
					}
				case evex && in.Needs&subsets&^want != 0:
					if bad++; bad <= 20 {
						t.Errorf("%#x %q (% x): needs %v, more AVX-512 subsets than %v", l.addr, l.text, l.code, in.Needs, want)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d mismatches in %d instructions", bad, len(insts))
			}
			t.Logf("%d instructions, %d EVEX; extensions seen: %v", len(insts), evexSeen, seen)
			if name == "as testdata/extensions.s" {
				for _, f := range []Features{AVX512VPOPCNTDQ, AVX512BITALG, AVX512FP16, AVX512VBMI2, AVX512VNNI, AVX512BF16, AVX512VP2INTERSECT, AMXINT8, AMXBF16, AVX512IFMA, AVX512CD} {
					if seen&f == 0 {
						t.Errorf("%v never decoded from %s", f, name)
					}
				}
			}
		})
	}
}

func isPrefix(b byte) bool {
	switch b {
	case 0x66, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x36, 0x64, 0x65, 0x67:
		return true
	}
	return false
}
