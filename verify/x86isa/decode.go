package x86isa

import (
	"errors"
	"fmt"
)

// ErrTruncated is returned when the code ends inside an instruction.
var ErrTruncated = errors.New("x86isa: truncated instruction")

// ErrInvalid is returned for bytes that are no x86-64 instruction.
var ErrInvalid = errors.New("x86isa: invalid instruction")

// maxLen is the longest x86 instruction.
const maxLen = 15

// Flow is what an instruction does to control flow.
type Flow uint8

// Control flow kinds.
const (
	FlowNext     Flow = iota // falls through to the next instruction
	FlowCall                 // direct or indirect call; falls through
	FlowJump                 // unconditional jump; does not fall through
	FlowCond                 // conditional jump; falls through
	FlowReturn               // ret
	FlowStop                 // ud2, hlt, int3: does not fall through
	FlowIndirect             // jmp through a register or memory
)

// Inst is one decoded instruction.
type Inst struct {
	// Len is its length in bytes.
	Len int
	// Flow is its effect on control flow.
	Flow Flow
	// Target is the destination of a direct call or jump (HasTarget).
	Target    uint64
	HasTarget bool
	// Ref is an address the instruction takes (HasRef): a RIP-relative
	// memory operand (lea func(%rip)) or a 32-bit immediate moved or pushed
	// (mov $func, %edi in non-PIE code). It may point at code: a function
	// whose address is passed on.
	Ref    uint64
	HasRef bool
	// Needs are the ISA extensions the instruction needs.
	Needs Features
}

// Encoding maps of VEX, EVEX and XOP (the m-mmmm field).
const (
	map0F   = 1
	map0F38 = 2
	map0F3A = 3
)

// Mandatory prefixes (VEX pp, or the last of 66/F3/F2 in legacy code).
const (
	ppNone = 0
	pp66   = 1
	ppF3   = 2
	ppF2   = 3
)

// decoder holds one instruction's decoding state.
type decoder struct {
	b       []byte
	pc      uint64
	i       int
	opsize  bool // 66
	rep     int  // ppF3, ppF2 or 0: the last of F3/F2
	rex     byte
	inst    Inst
	modrm   byte
	hasMod  bool
	ripDisp int32
	ripRel  bool
}

// Decode decodes the instruction at the start of code, which sits at
// address pc. An error is ErrTruncated or ErrInvalid (wrapped, with the
// address); linear decoders skip one byte and go on.
func Decode(code []byte, pc uint64) (Inst, error) {
	d := decoder{b: code, pc: pc}
	if err := d.decode(); err != nil {
		return Inst{}, fmt.Errorf("%w at %#x", err, pc)
	}
	d.inst.Len = d.i
	if d.ripRel {
		d.inst.Ref, d.inst.HasRef = uint64(int64(pc)+int64(d.i)+int64(d.ripDisp)), true
	}
	return d.inst, nil
}

func (d *decoder) byte() (byte, error) {
	if d.i >= len(d.b) {
		return 0, ErrTruncated
	}
	if d.i >= maxLen {
		return 0, ErrInvalid
	}
	c := d.b[d.i]
	d.i++
	return c, nil
}

// skip consumes n bytes (an immediate or displacement).
func (d *decoder) skip(n int) error {
	if d.i+n > maxLen {
		return ErrInvalid
	}
	if d.i+n > len(d.b) {
		return ErrTruncated
	}
	d.i += n
	return nil
}

// le reads an n-byte little-endian signed value at the cursor.
func (d *decoder) le(n int) (int64, error) {
	start := d.i
	if err := d.skip(n); err != nil {
		return 0, err
	}
	var v uint64
	for k := n - 1; k >= 0; k-- {
		v = v<<8 | uint64(d.b[start+k])
	}
	shift := 64 - 8*n
	return int64(v<<shift) >> shift, nil
}

func (d *decoder) decode() error {
	// Legacy prefixes, at most 14 before the opcode.
	for {
		if d.i >= len(d.b) {
			return ErrTruncated
		}
		switch d.b[d.i] {
		case 0x66:
			d.opsize = true
		case 0xf3:
			d.rep = ppF3
		case 0xf2:
			d.rep = ppF2
		case 0xf0, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x67:
		default:
			goto prefixesDone
		}
		d.i++
		if d.i >= maxLen {
			return ErrInvalid
		}
	}
prefixesDone:
	if d.b[d.i]&0xf0 == 0x40 {
		d.rex = d.b[d.i]
		d.i++
	}
	op, err := d.byte()
	if err != nil {
		return err
	}
	switch op {
	case 0x0f:
		return d.twoByte()
	case 0xc4, 0xc5:
		return d.vex(op)
	case 0x62:
		return d.evex()
	case 0x8f:
		if d.i < len(d.b) && d.b[d.i]&0x1f >= 8 {
			return d.xop()
		}
	}
	return d.oneByte(op)
}

// mandatory is the legacy mandatory prefix: F3/F2 (the last given) over 66.
func (d *decoder) mandatory() int {
	switch {
	case d.rep != 0:
		return d.rep
	case d.opsize:
		return pp66
	}
	return ppNone
}

// modRM reads a ModRM byte and its SIB and displacement.
func (d *decoder) modRM() error {
	m, err := d.byte()
	if err != nil {
		return err
	}
	d.modrm, d.hasMod = m, true
	mod, rm := m>>6, m&7
	if mod == 3 {
		return nil
	}
	if rm == 4 {
		sib, err := d.byte()
		if err != nil {
			return err
		}
		if mod == 0 && sib&7 == 5 {
			return d.skip(4)
		}
	}
	switch {
	case mod == 0 && rm == 5:
		v, err := d.le(4)
		d.ripRel, d.ripDisp = true, int32(v)
		return err
	case mod == 1:
		return d.skip(1)
	case mod == 2:
		return d.skip(4)
	}
	return nil
}

func (d *decoder) reg() byte { return d.modrm >> 3 & 7 }
func (d *decoder) mod() byte { return d.modrm >> 6 }

// immZ is the size of a z-sized immediate: 2 with 66, else 4.
func (d *decoder) immZ() int {
	if d.opsize {
		return 2
	}
	return 4
}

// branch reads an n-byte relative target.
func (d *decoder) branch(n int, flow Flow) error {
	v, err := d.le(n)
	if err != nil {
		return err
	}
	d.inst.Flow, d.inst.Target, d.inst.HasTarget = flow, uint64(int64(d.pc)+int64(d.i)+v), true
	return nil
}

// addressImm reads a 4-byte immediate that may be an address (mov $sym,
// push $sym in non-PIE code).
func (d *decoder) addressImm() error {
	v, err := d.le(4)
	if err != nil {
		return err
	}
	if v > 0 {
		d.inst.Ref, d.inst.HasRef = uint64(v), true
	}
	return nil
}

func (d *decoder) oneByte(op byte) error {
	switch {
	case op < 0x40 && op&7 < 4: // ALU r/m forms
		return d.modRM()
	case op < 0x40 && op&7 == 4:
		return d.skip(1)
	case op < 0x40 && op&7 == 5:
		return d.skip(d.immZ())
	case op < 0x40: // 06 07 0E 16 17 1E 1F 27 2F 37 3F: invalid in 64-bit mode
		return ErrInvalid
	case op >= 0x50 && op <= 0x5f:
		return nil
	case op >= 0x70 && op <= 0x7f:
		return d.branch(1, FlowCond)
	case op >= 0x84 && op <= 0x8f:
		return d.modRM()
	case op >= 0x90 && op <= 0x99:
		return nil
	case op >= 0xa4 && op <= 0xa7 || op >= 0xaa && op <= 0xaf:
		return nil
	case op >= 0xb0 && op <= 0xb7:
		return d.skip(1)
	case op >= 0xb8 && op <= 0xbf:
		switch {
		case d.rex&8 != 0:
			return d.skip(8)
		case d.opsize:
			return d.skip(2)
		}
		return d.addressImm()
	case op >= 0xd8 && op <= 0xdf: // x87
		return d.modRM()
	}
	switch op {
	case 0x60, 0x61, 0x82, 0x9a, 0xce, 0xd4, 0xd5, 0xd6, 0xea:
		return ErrInvalid
	case 0x63, 0xd0, 0xd1, 0xd2, 0xd3, 0xfe:
		return d.modRM()
	case 0x68:
		if d.opsize {
			return d.skip(2)
		}
		return d.addressImm()
	case 0x69:
		if err := d.modRM(); err != nil {
			return err
		}
		return d.skip(d.immZ())
	case 0x6a, 0xa8, 0xcd, 0xe4, 0xe5, 0xe6, 0xe7:
		return d.skip(1)
	case 0x6b, 0x80, 0x83, 0xc0, 0xc1, 0xc6:
		if err := d.modRM(); err != nil {
			return err
		}
		return d.skip(1)
	case 0x6c, 0x6d, 0x6e, 0x6f, 0x9b, 0x9c, 0x9d, 0xc9, 0xcb, 0xcf, 0xd7,
		0xec, 0xed, 0xee, 0xef, 0xf1, 0xf5, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd:
		return nil
	case 0x9e, 0x9f: // sahf, lahf: LAHF_LM in 64-bit mode
		d.inst.Needs |= LAHFLM
		return nil
	case 0x81:
		if err := d.modRM(); err != nil {
			return err
		}
		return d.skip(d.immZ())
	case 0xc7:
		if err := d.modRM(); err != nil {
			return err
		}
		if d.modrm == 0xf8 { // xbegin rel32
			return d.skip(d.immZ())
		}
		if d.mod() == 3 && d.reg() == 0 && !d.opsize {
			return d.addressImm()
		}
		return d.skip(d.immZ())
	case 0xa0, 0xa1, 0xa2, 0xa3: // mov with a 64-bit absolute address
		return d.skip(8)
	case 0xa9:
		return d.skip(d.immZ())
	case 0xc2, 0xca:
		if err := d.skip(2); err != nil {
			return err
		}
		if op == 0xc2 {
			d.inst.Flow = FlowReturn
		}
		return nil
	case 0xc3:
		d.inst.Flow = FlowReturn
		return nil
	case 0xc8:
		return d.skip(3)
	case 0xcc, 0xf4:
		d.inst.Flow = FlowStop
		return nil
	case 0xe0, 0xe1, 0xe2, 0xe3:
		return d.branch(1, FlowCond)
	case 0xe8:
		return d.branch(4, FlowCall)
	case 0xe9:
		return d.branch(4, FlowJump)
	case 0xeb:
		return d.branch(1, FlowJump)
	case 0xf6, 0xf7:
		if err := d.modRM(); err != nil {
			return err
		}
		if d.reg() < 2 { // test r/m, imm
			if op == 0xf6 {
				return d.skip(1)
			}
			return d.skip(d.immZ())
		}
		return nil
	case 0xff:
		if err := d.modRM(); err != nil {
			return err
		}
		switch d.reg() {
		case 2, 3:
			d.inst.Flow = FlowCall
		case 4, 5:
			d.inst.Flow = FlowIndirect
		}
		return nil
	}
	return ErrInvalid
}

func (d *decoder) twoByte() error {
	op, err := d.byte()
	if err != nil {
		return err
	}
	switch {
	case op == 0x38:
		return d.threeByte38()
	case op == 0x3a:
		return d.threeByte3A()
	case op >= 0x80 && op <= 0x8f:
		return d.branch(4, FlowCond)
	case op >= 0xc8 && op <= 0xcf, op >= 0x30 && op <= 0x37, op == 0x05, op == 0x06, op == 0x07,
		op == 0x08, op == 0x09, op == 0x0e, op == 0x77, op == 0xa0, op == 0xa1, op == 0xa2,
		op == 0xa8, op == 0xa9, op == 0xaa:
		return nil
	case op == 0x0b:
		d.inst.Flow = FlowStop
		return nil
	case op == 0x04, op == 0x0a, op == 0x0c, op >= 0x24 && op <= 0x27, op == 0x36, op >= 0x39 && op <= 0x3f, op == 0x7a, op == 0x7b:
		return ErrInvalid
	case op == 0x0f: // 3DNow!: ModRM, then the opcode as an imm8
		if err := d.modRM(); err != nil {
			return err
		}
		d.inst.Needs |= ThreeDNow
		return d.skip(1)
	}
	if err := d.modRM(); err != nil {
		return err
	}
	d.inst.Needs |= legacy0F(op, d.mandatory(), d.rex, d.modrm)
	switch op {
	case 0x70, 0x71, 0x72, 0x73, 0xa4, 0xac, 0xba, 0xc2, 0xc4, 0xc5, 0xc6:
		return d.skip(1)
	}
	return nil
}

func (d *decoder) threeByte38() error {
	op, err := d.byte()
	if err != nil {
		return err
	}
	if err := d.modRM(); err != nil {
		return err
	}
	d.inst.Needs |= legacy0F38(op, d.mandatory(), d.rep, d.opsize)
	return nil
}

func (d *decoder) threeByte3A() error {
	op, err := d.byte()
	if err != nil {
		return err
	}
	if err := d.modRM(); err != nil {
		return err
	}
	d.inst.Needs |= legacy0F3A(op, d.mandatory())
	return d.skip(1)
}

// vex decodes a VEX-encoded instruction (C4: three bytes, C5: two).
func (d *decoder) vex(prefix byte) error {
	var mmap, pp int
	var l, w bool
	if prefix == 0xc5 {
		b1, err := d.byte()
		if err != nil {
			return err
		}
		mmap, l, pp = map0F, b1&4 != 0, int(b1&3)
	} else {
		b1, err := d.byte()
		if err != nil {
			return err
		}
		b2, err := d.byte()
		if err != nil {
			return err
		}
		mmap, w, l, pp = int(b1&0x1f), b2&0x80 != 0, b2&4 != 0, int(b2&3)
	}
	op, err := d.byte()
	if err != nil {
		return err
	}
	if mmap < map0F || mmap > map0F3A {
		return ErrInvalid
	}
	if !(mmap == map0F && op == 0x77) { // vzeroupper/vzeroall: no ModRM
		if err := d.modRM(); err != nil {
			return err
		}
	}
	d.inst.Needs |= vexNeeds(mmap, op, pp, l, w, d.modrm)
	if mmap == map0F3A || mmap == map0F && hasImm8Map1(op) {
		return d.skip(1)
	}
	return nil
}

// hasImm8Map1 reports whether a VEX or EVEX map-1 opcode takes an imm8.
func hasImm8Map1(op byte) bool {
	return op >= 0x70 && op <= 0x73 || op == 0xc2 || op >= 0xc4 && op <= 0xc6
}

// evex decodes an EVEX-encoded instruction: AVX-512 (and AVX10).
func (d *decoder) evex() error {
	p0, err := d.byte()
	if err != nil {
		return err
	}
	if err := d.skip(2); err != nil {
		return err
	}
	op, err := d.byte()
	if err != nil {
		return err
	}
	mmap := int(p0 & 7)
	if mmap == 0 || mmap == 4 || mmap == 7 {
		return ErrInvalid
	}
	if err := d.modRM(); err != nil {
		return err
	}
	d.inst.Needs |= AVX512F
	if mmap == map0F3A || mmap == map0F && hasImm8Map1(op) {
		return d.skip(1)
	}
	return nil
}

// xop decodes an AMD XOP instruction (8F with a map of 8 or more).
func (d *decoder) xop() error {
	b1, err := d.byte()
	if err != nil {
		return err
	}
	if err := d.skip(1); err != nil {
		return err
	}
	if _, err := d.byte(); err != nil {
		return err
	}
	if err := d.modRM(); err != nil {
		return err
	}
	switch b1 & 0x1f {
	case 8:
		d.inst.Needs |= XOP
		return d.skip(1)
	case 9:
		d.inst.Needs |= XOP
		return nil
	case 10:
		d.inst.Needs |= TBM
		return d.skip(4)
	}
	return ErrInvalid
}
