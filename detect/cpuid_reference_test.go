package detect

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/tailor-dev/tailor/internal/sharedtest"
)

// TestCPUIDFlagsReference checks the table against archspec's cpuid.json
// (read in place from ../shared): where both place a flag, the leaf,
// sub-leaf, register and bit agree. The table has flags archspec's lacks
// (tsc_adjust, flush_l1d, clzero, the AVX-VNNI-INT and NE-CONVERT bits),
// all of which the catalog's targets need.
func TestCPUIDFlagsReference(t *testing.T) {
	data, err := os.ReadFile(sharedtest.Path(t, "archspec", "cpuid.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Flags []struct {
			Input struct{ EAX, ECX uint32 }
			Bits  []struct {
				Name     string
				Register string
				Bit      int
			}
		}
		Ext []struct {
			Input struct{ EAX, ECX uint32 }
			Bits  []struct {
				Name     string
				Register string
				Bit      int
			}
		} `json:"extension-flags"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	regs := map[string]int{"eax": regEAX, "ebx": regEBX, "ecx": regECX, "edx": regEDX}
	type pos struct {
		eax, ecx uint32
		reg, bit int
	}
	where := map[string][]pos{}
	for _, g := range append(ref.Flags, ref.Ext...) {
		for _, b := range g.Bits {
			where[b.Name] = append(where[b.Name], pos{g.Input.EAX, g.Input.ECX, regs[b.Register], b.Bit})
		}
	}
	checked := 0
	for _, f := range cpuidFlags {
		ps, ok := where[f.name]
		if !ok {
			continue
		}
		checked++
		found := false
		for _, p := range ps {
			found = found || p == pos{f.eax, f.ecx, f.reg, f.bit}
		}
		if !found {
			t.Errorf("%s: table has leaf %#x.%d reg %d bit %d, archspec %+v", f.name, f.eax, f.ecx, f.reg, f.bit, ps)
		}
	}
	if checked < 70 {
		t.Errorf("only %d flags of the table are in archspec's cpuid.json, want most", checked)
	}
}
