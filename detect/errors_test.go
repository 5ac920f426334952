package detect

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCPUInfoErrors(t *testing.T) {
	haswell := x86CPUInfo("GenuineIntel", haswellFlags)
	tests := []struct {
		name, machine, data string
		want                error
		says                string
	}{
		{"empty", "x86_64", "", ErrMalformed, "empty input"},
		{"blank", "x86_64", " \n\n\t\n", ErrMalformed, "empty input"},
		{"binary", "x86_64", "\x7fELF\x02\x01\x01\x00\x00\x00", ErrMalformed, "binary"},
		{"invalid utf-8", "x86_64", "flags : \xff\xfe avx", ErrMalformed, "binary"},
		{"garbled", "x86_64", "the quick brown fox\njumps over", ErrMalformed, "line 1"},
		{"garbled later line", "x86_64", "processor : 0\nvendor_id : GenuineIntel\n#### oops ####\n", ErrMalformed, "line 3"},
		{"truncated before flags", "x86_64", haswell[:strings.Index(haswell, "flags")], ErrMalformed, `no "flags" line`},
		{"no vendor", "x86_64", "processor : 0\nflags : fpu sse2\n", ErrMalformed, `no "vendor_id" line`},
		{"empty flags", "x86_64", "processor : 0\nvendor_id : GenuineIntel\nflags :\n", ErrMalformed, `"flags" line is empty`},
		{"garbage flag", "x86_64", "vendor_id : GenuineIntel\nflags : fpu $(rm -rf /)\n", ErrMalformed, "not a flag name"},
		{"arm dump read as x86", "x86_64", armCPUInfo("0x41", "0xd0c", n1Features), ErrMalformed, `no "vendor_id" line`},
		{"x86 dump read as arm", "aarch64", haswell, ErrMalformed, `no "Features" line`},
		{"no cpu line", "ppc64le", "processor : 0\nclock : 1MHz\n", ErrMalformed, `no "cpu" line`},
		{"riscv without isa", "riscv64", "processor : 0\nhart : 1\n", ErrMalformed, `no "isa" or "uarch"`},
		{"riscv bad isa", "riscv64", "processor : 0\nisa : rv32imac\n", ErrMalformed, "rv64"},
		{"unknown machine", "sparc64", haswell, ErrUnknownMachine, `"sparc64"`},
		{"unknown machine mips", "mips", haswell, ErrUnknownMachine, `"mips"`},
		{"ppc needs machine", "", powerCPUInfo("POWER9 (raw)"), ErrUnknownMachine, "ppc64 from ppc64le"},
		{"cannot infer", "", "processor : 0\nfoo : bar\n", ErrUnknownMachine, "cannot tell"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := ParseCPUInfo([]byte(tt.data), tt.machine)
			checkErr(t, "ParseCPUInfo", info, err, tt.want, tt.says)
		})
	}
}

func TestParseSysctlErrors(t *testing.T) {
	tests := []struct {
		name, machine, data string
		want                error
		says                string
	}{
		{"empty", "arm64", "", ErrMalformed, "empty input"},
		{"binary", "arm64", "\x00\x00\x00\x01", ErrMalformed, "binary"},
		{"garbled", "arm64", "hello world\n", ErrMalformed, "line 1"},
		{"not dotted", "x86_64", "vendor: GenuineIntel\n", ErrMalformed, "line 1"},
		{"no brand", "arm64", "hw.optional.neon: 1\n", ErrMalformed, "machdep.cpu.brand_string"},
		{"no features", "x86_64", "machdep.cpu.vendor: GenuineIntel\n", ErrMalformed, "machdep.cpu.features"},
		{"no vendor", "x86_64", "machdep.cpu.features: SSE2\n", ErrMalformed, "machdep.cpu.vendor"},
		{"cannot infer", "", "hw.ncpu: 8\n", ErrUnknownMachine, "cannot tell"},
		{"ppc mac", "ppc64", appleSysctl("Apple M1"), ErrUnknownMachine, "x86_64 and arm64"},
		{"unknown machine", "vax", appleSysctl("Apple M1"), ErrUnknownMachine, `"vax"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := ParseSysctl([]byte(tt.data), tt.machine)
			checkErr(t, "ParseSysctl", info, err, tt.want, tt.says)
		})
	}
}

func TestTargetErrors(t *testing.T) {
	tests := []struct {
		name string
		info *CPUInfo
		want error
	}{
		{"nil", nil, ErrNoTarget},
		{"unknown machine", &CPUInfo{Machine: "sparc64"}, ErrUnknownMachine},
		{"empty machine", &CPUInfo{}, ErrUnknownMachine},
		{"apple model unknown", &CPUInfo{OS: OSDarwin, Machine: MachineAArch64, Vendor: "Apple", Name: "m0"}, ErrNoTarget},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Target(tt.info)
			checkErr(t, "Target", got, err, tt.want, "")
		})
	}
}

func checkErr[T any](t *testing.T, fn string, got *T, err, want error, says string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s = %+v, want error %v", fn, got, want)
	}
	if !errors.Is(err, want) {
		t.Errorf("%s error %q, want errors.Is %v", fn, err, want)
	}
	if !strings.Contains(err.Error(), says) {
		t.Errorf("%s error %q, want it to say %q", fn, err, says)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("%s error %q spans lines", fn, err)
	}
	if got != nil {
		t.Errorf("%s returned %+v with error", fn, got)
	}
}
