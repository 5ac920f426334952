package detect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/internal/sharedtest"
)

// addCorpusSeeds adds the shared corpus files of kind as seeds, whole and
// cut in half, when the corpus is present.
func addCorpusSeeds(f *testing.F, kind string) {
	dir, ok := sharedtest.Find(f, "cpu-corpus")
	if !ok {
		return
	}
	tsv, err := os.ReadFile(filepath.Join(dir, "expected.tsv"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(tsv), "\n") {
		cols := strings.Split(line, "\t")
		if len(cols) != 4 || cols[1] != kind {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, cols[0]))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, cols[2])
		f.Add(data[:len(data)/2], cols[2])
	}
}

// checkParsed asserts the invariants of a parse: an error is one line and
// comes with no info; an info has a known family and a target, or a
// one-line error.
func checkParsed(t *testing.T, info *CPUInfo, err error) {
	if err != nil {
		if info != nil {
			t.Fatalf("info %+v returned with error %v", info, err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("error spans lines: %q", err)
		}
		return
	}
	if _, err := NormalizeMachine(info.Machine); err != nil {
		t.Fatalf("parsed machine %q: %v", info.Machine, err)
	}
	target, err := Target(info)
	if err != nil {
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("Target error spans lines: %q", err)
		}
		return
	}
	if target.Family() != info.Machine {
		t.Fatalf("Target = %s of family %s for a %s CPU", target.Name(), target.Family(), info.Machine)
	}
	_ = CPUProfile(info, target)
}

func FuzzParseCPUInfo(f *testing.F) {
	f.Add([]byte(x86CPUInfo("GenuineIntel", haswellFlags)), "x86_64")
	f.Add([]byte(armCPUInfo("0x41", "0xd4f", n2Features)), "aarch64")
	f.Add([]byte(powerCPUInfo("POWER9 (raw), altivec supported")), "ppc64le")
	f.Add([]byte("processor : 0\nisa : rv64imafdc\nuarch : sifive,u74-mc\n"), "riscv64")
	f.Add([]byte("processor : 0\nisa : rv64imafdc\nuarch : sifive,u74-mc\n"), "")
	f.Add([]byte{}, "x86_64")
	addCorpusSeeds(f, "cpuinfo")
	f.Fuzz(func(t *testing.T, data []byte, machine string) {
		info, err := ParseCPUInfo(data, machine)
		checkParsed(t, info, err)
	})
}

func FuzzParseSysctl(f *testing.F) {
	f.Add([]byte(darwinHaswell), "x86_64")
	f.Add([]byte(appleSysctl("Apple M2 Pro")), "arm64")
	f.Add([]byte(appleSysctl("Apple M2 Pro")), "")
	f.Add([]byte("hw.ncpu: 8\n"), "")
	addCorpusSeeds(f, "sysctl")
	f.Fuzz(func(t *testing.T, data []byte, machine string) {
		info, err := ParseSysctl(data, machine)
		checkParsed(t, info, err)
	})
}
