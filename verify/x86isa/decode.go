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
	// Cond is the condition of a Jcc (0 to 15, as in the opcode: 2 jb, 3
	// jae, 4 je, 5 jne, ...); -1 for any other instruction.
	Cond int8
	// Op says which flag-setting comparison the instruction is, for the
	// dispatch analysis (OpNone for all others), and Imm its immediate
	// (HasImm).
	Op     Op
	Imm    int64
	HasImm bool
	// Reads are the general registers a comparison reads (bit n: register
	// n, RAX=0 ... R15=15); Writes is the register a plain load or move
	// writes (mov, movzx, movsx, lea, mov $imm, xor r,r), -1 for others.
	Reads  uint16
	Writes int8
	// Base is the base register of a memory operand (-1: none, or
	// RIP-relative): a load through a pointer to a feature variable.
	Base int8
	// CPUID is true for cpuid and xgetbv: what they write (RAX, RBX, RCX,
	// RDX) is what the CPU says of itself.
	CPUID bool
	// CopyFrom is the source register of a register-to-register mov
	// (Writes is its destination), -1 for others.
	CopyFrom int8
}

// Op is a comparison that sets the flags a Jcc then tests.
type Op uint8

// Comparisons told apart.
const (
	OpNone  Op = iota
	OpCmp      // cmp
	OpTest     // test
	OpBt       // bt
	OpAnd      // and
	OpOther    // another ALU operation: it sets the flags too
)

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
	d.inst.Cond, d.inst.Writes, d.inst.Base, d.inst.CopyFrom = -1, -1, -1, -1
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
		d.inst.Base = int8(sib&7 | d.rex&1<<3)
	} else if !(mod == 0 && rm == 5) {
		d.inst.Base = int8(rm | d.rex&1<<3)
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

// regX is the ModRM reg field extended by REX.R; rmX the rm field
// extended by REX.B, -1 unless it names a register (mod 3).
func (d *decoder) regX() int8 { return int8(d.reg() | d.rex>>2&1<<3) }
func (d *decoder) rmX() int8 {
	if d.mod() != 3 {
		return -1
	}
	return int8(d.modrm&7 | d.rex&1<<3)
}

// reads sets the registers a comparison reads: its ModRM reg field when
// withReg, its rm field when that is a register. Without a REX prefix, a
// byte operation's registers 4 to 7 are AH, CH, DH and BH: parts of
// registers 0 to 3.
func (d *decoder) reads(withReg, byteOp bool) {
	high := func(r int8) int8 {
		if byteOp && d.rex == 0 && r >= 4 && r < 8 {
			return r - 4
		}
		return r
	}
	if withReg {
		d.inst.Reads |= 1 << high(d.regX())
	}
	if r := d.rmX(); r >= 0 {
		d.inst.Reads |= 1 << high(r)
	}
}
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

// imm reads an n-byte immediate operand of a comparison.
func (d *decoder) imm(n int, op Op) error {
	v, err := d.le(n)
	if err != nil {
		return err
	}
	d.inst.Op, d.inst.Imm, d.inst.HasImm = op, v, true
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
