package detect

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tailor-dev/tailor/catalog"
)

// hwcapOf sets the HWCAP and HWCAP2 bits of the named features.
func hwcapOf(t *testing.T, names []string) HWCAP {
	t.Helper()
	var h HWCAP
	for _, n := range names {
		if i := slices.Index(hwcapNames, n); i >= 0 {
			h.HWCAP |= 1 << i
		} else if i := slices.Index(hwcap2Names, n); i >= 0 {
			h.HWCAP2 |= 1 << i
		} else {
			t.Errorf("feature %q has no HWCAP bit in the table", n)
		}
	}
	return h
}

// TestHWCAPBits pins bit positions of linux/arch/arm64/include/uapi/asm/hwcap.h.
func TestHWCAPBits(t *testing.T) {
	cases := []struct {
		hwcap, hwcap2 uint64
		want          []string
	}{
		{1 << 0, 0, []string{"fp"}},
		{1 << 8, 0, []string{"atomics"}},
		{1 << 22, 0, []string{"sve"}},
		{1 << 31, 0, []string{"pacg"}},
		{0, 1 << 1, []string{"sve2"}},
		{0, 1 << 13, []string{"i8mm"}},
		{0, 1 << 17, []string{"bti"}},
		{0, 1 << 23, []string{"sme"}},
		{0, 1 << 31, []string{"wfxt"}},
		{0, 1 << 37, []string{"sme2"}},
		{0, 1 << 63, nil}, // a bit this table does not know
	}
	for _, c := range cases {
		if got := (HWCAP{HWCAP: c.hwcap, HWCAP2: c.hwcap2}).Features(); !slices.Equal(got, c.want) {
			t.Errorf("HWCAP %#x HWCAP2 %#x: Features() = %v, want %v", c.hwcap, c.hwcap2, got, c.want)
		}
	}
}

// TestHWCAPCorpus: the Features line of every aarch64 Linux dump of the
// corpus is what its HWCAP bits print, and a CPU told by HWCAP and MIDR
// alone gets the dump's target.
func TestHWCAPCorpus(t *testing.T) {
	n := 0
	for _, c := range loadCorpus(t) {
		if c.kind != "cpuinfo" || c.machine != MachineAArch64 {
			continue
		}
		n++
		file, err := c.parse()
		if err != nil {
			t.Fatal(err)
		}
		h := hwcapOf(t, file.Features)
		if got := h.Features(); !slices.Equal(got, file.Features) {
			t.Errorf("%s: Features() = %v, want %v", c.file, got, file.Features)
		}
		cpu := h.Info()
		if cpu.Part != "" {
			t.Errorf("%s: a part without MIDR", c.file)
		}
		var implementer uint64
		for code := uint64(0); code < 256; code++ {
			if v, ok := catalog.ARMVendor(fmt.Sprintf("0x%02x", code)); ok && v == file.Vendor {
				implementer = code
			}
		}
		var part uint64
		if _, err := fmt.Sscanf(file.Part, "0x%x", &part); err != nil {
			t.Fatalf("%s: part %q: %v", c.file, file.Part, err)
		}
		h.MIDR = implementer<<24 | part<<4
		cpu = h.Info()
		got, err := Target(Reconcile(file, cpu, HWCAPFlagNames()))
		if err != nil || got.Name() != c.want {
			t.Errorf("%s: target from HWCAP+MIDR = %v, %v; want %s", c.file, got, err, c.want)
		}
		if cpu.Part != file.Part || cpu.Vendor != file.Vendor {
			t.Errorf("%s: MIDR gave vendor %q part %q, want %q %q", c.file, cpu.Vendor, cpu.Part, file.Vendor, file.Part)
		}
	}
	if n < 5 {
		t.Errorf("only %d aarch64 dumps checked", n)
	}
}
