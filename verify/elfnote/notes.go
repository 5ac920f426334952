package elfnote

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
)

// compatBits are the extensions of the pre-2.35 binutils x86 ISA note
// (GNU_PROPERTY_X86_COMPAT_ISA_1_*), by bit, in catalog naming; the 486,
// 586, 686, SSE and SSE2 bits are baseline and not listed.
var compatBits = map[int]string{
	5: "sse3", 6: "ssse3", 7: "sse4_1", 8: "sse4_2", 9: "avx", 10: "avx2",
	11: "avx512f", 12: "avx512cd", 13: "avx512er", 14: "avx512pf", 15: "avx512vl",
	16: "avx512dq", 17: "avx512bw",
}

// readNotes reads the notes of a note segment aligned to align (4 or 8),
// and from GNU property notes the x86 ISA levels.
func readNotes(info *Info, data []byte, align uint64) error {
	if align != 8 {
		align = 4
	}
	le := binary.LittleEndian
	for len(data) >= 12 {
		namesz, descsz, typ := uint64(le.Uint32(data)), uint64(le.Uint32(data[4:])), le.Uint32(data[8:])
		nameEnd := 12 + roundUp(namesz, 4)
		descEnd := roundUp(nameEnd+descsz, align)
		if namesz > uint64(len(data)) || descsz > uint64(len(data)) || nameEnd+descsz > uint64(len(data)) {
			return fmt.Errorf("%w: note of %d+%d bytes overruns its segment", ErrMalformed, namesz, descsz)
		}
		name := data[12 : 12+namesz]
		if typ == ntGNUProperty && string(name) == "GNU\x00" {
			if err := readProperties(info, data[nameEnd:nameEnd+descsz], info.Class); err != nil {
				return err
			}
		}
		if descEnd >= uint64(len(data)) {
			return nil
		}
		data = data[descEnd:]
	}
	return nil
}

// readProperties reads the properties of a NT_GNU_PROPERTY_TYPE_0 note.
func readProperties(info *Info, desc []byte, class int) error {
	le := binary.LittleEndian
	align := uint64(8)
	if class == 32 {
		align = 4
	}
	for len(desc) >= 8 {
		typ, size := le.Uint32(desc), uint64(le.Uint32(desc[4:]))
		if size > maxPropertyLen || 8+size > uint64(len(desc)) {
			return fmt.Errorf("%w: property %#x of %d bytes overruns its note", ErrMalformed, typ, size)
		}
		if size >= 4 {
			v := le.Uint32(desc[8:])
			switch typ {
			case x86ISANeeded:
				info.ISANeeded = max(info.ISANeeded, level(v))
			case x86ISAUsed:
				info.ISAUsed = max(info.ISAUsed, level(v))
			case x86CompatNeed:
				for bit, name := range compatBits {
					if v&(1<<bit) != 0 && !slices.Contains(info.CompatNeeded, name) {
						info.CompatNeeded = append(info.CompatNeeded, name)
					}
				}
				slices.Sort(info.CompatNeeded)
			}
		}
		next := roundUp(8+size, align)
		if next >= uint64(len(desc)) {
			return nil
		}
		desc = desc[next:]
	}
	return nil
}

// level is the highest x86-64 level of an ISA_1 bit mask: bit 0 baseline
// (1), bit 1 x86-64-v2, bit 2 v3, bit 3 v4.
func level(mask uint32) int {
	mask &= 0xf
	if mask == 0 {
		return 0
	}
	return bits.Len32(mask)
}

func roundUp(n, align uint64) uint64 { return (n + align - 1) &^ (align - 1) }
