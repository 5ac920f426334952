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
