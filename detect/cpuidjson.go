package detect

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// cpuidJSON is the recorded form of CPUID, readable by people: every
// number in hex, each leaf keyed "LEAF.SUBLEAF" ("0x7.0"), its registers
// in the order EAX, EBX, ECX, EDX.
type cpuidJSON struct {
	XCR0   string               `json:"xcr0"`
	Leaves map[string][4]string `json:"leaves"`
}

// MarshalJSON writes c in the recorded form (see testdata/cpuid).
func (c *CPUID) MarshalJSON() ([]byte, error) {
	j := cpuidJSON{XCR0: hex(c.XCR0), Leaves: map[string][4]string{}}
	for _, l := range c.Leaves {
		var regs [4]string
		for i, r := range l.Out {
			regs[i] = hex(uint64(r))
		}
		j.Leaves[hex(uint64(l.EAX))+"."+strconv.FormatUint(uint64(l.ECX), 10)] = regs
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the recorded form.
func (c *CPUID) UnmarshalJSON(data []byte) error {
	var j cpuidJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("%w: CPUID record: %w", ErrMalformed, err)
	}
	xcr0, err := strconv.ParseUint(j.XCR0, 0, 64)
	if err != nil {
		return fmt.Errorf("%w: CPUID record: xcr0 %q: %w", ErrMalformed, j.XCR0, err)
	}
	out := CPUID{XCR0: xcr0}
	for key, regs := range j.Leaves {
		leaf, sub, ok := strings.Cut(key, ".")
		eax, err1 := strconv.ParseUint(leaf, 0, 32)
		ecx, err2 := strconv.ParseUint(sub, 0, 32)
		if !ok || err1 != nil || err2 != nil {
			return fmt.Errorf("%w: CPUID record: leaf key %q: want LEAF.SUBLEAF such as 0x7.0", ErrMalformed, key)
		}
		l := CPUIDLeaf{EAX: uint32(eax), ECX: uint32(ecx)}
		for i, r := range regs {
			v, err := strconv.ParseUint(r, 0, 32)
			if err != nil {
				return fmt.Errorf("%w: CPUID record: leaf %s register %d: %q: %w", ErrMalformed, key, i, r, err)
			}
			l.Out[i] = uint32(v)
		}
		out.Leaves = append(out.Leaves, l)
	}
	*c = out
	return nil
}

func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }
