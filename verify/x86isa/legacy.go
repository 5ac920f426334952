package x86isa

// Legacy (non-VEX) opcode maps: one byte, 0F, 0F 38 and 0F 3A.

func (d *decoder) oneByte(op byte) error {
	switch {
	case op < 0x40 && op&7 < 4: // ALU r/m forms
		d.inst.Op = aluOp(op >> 3)
		if err := d.modRM(); err != nil {
			return err
		}
		d.reads(true, op&1 == 0)
		if (op == 0x31 || op == 0x33) && d.rmX() == d.regX() {
			d.inst.Writes = d.regX() // xor r, r: a zero
		}
		return nil
	case op < 0x40 && op&7 == 4:
		d.inst.Reads = 1 // al
		return d.imm(1, aluOp(op>>3))
	case op < 0x40 && op&7 == 5:
		d.inst.Reads = 1 // eax
		return d.imm(d.immZ(), aluOp(op>>3))
	case op < 0x40: // 06 07 0E 16 17 1E 1F 27 2F 37 3F: invalid in 64-bit mode
		return ErrInvalid
	case op >= 0x50 && op <= 0x5f:
		return nil
	case op >= 0x70 && op <= 0x7f:
		d.inst.Cond = int8(op & 0xf)
		return d.branch(1, FlowCond)
	case op == 0x84 || op == 0x85:
		d.inst.Op = OpTest
		if err := d.modRM(); err != nil {
			return err
		}
		d.reads(true, op == 0x84)
		return nil
	case op == 0x8a || op == 0x8b || op == 0x8d: // mov r, r/m; lea
		if err := d.modRM(); err != nil {
			return err
		}
		d.inst.Writes = d.regX()
		if op == 0x8b && d.mod() == 3 {
			d.inst.CopyFrom = d.rmX()
		}
		return nil
	case op == 0x89: // mov r/m, r
		if err := d.modRM(); err != nil {
			return err
		}
		if d.mod() == 3 {
			d.inst.Writes, d.inst.CopyFrom = d.rmX(), d.regX()
		}
		return nil
	case op >= 0x86 && op <= 0x8f:
		return d.modRM()
	case op >= 0x90 && op <= 0x99:
		return nil
	case op >= 0xa4 && op <= 0xa7 || op >= 0xaa && op <= 0xaf:
		return nil
	case op >= 0xb0 && op <= 0xb7:
		d.inst.Writes = int8(op&7 | d.rex&1<<3)
		return d.skip(1)
	case op >= 0xb8 && op <= 0xbf:
		d.inst.Writes = int8(op&7 | d.rex&1<<3)
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
	case 0xd0, 0xd1, 0xd2, 0xd3, 0xfe:
		d.inst.Op = OpOther // shifts, inc, dec
		return d.modRM()
	case 0x63:
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
	case 0xa8:
		d.inst.Reads = 1
		return d.imm(1, OpTest)
	case 0x6a, 0xcd, 0xe4, 0xe5, 0xe6, 0xe7:
		return d.skip(1)
	case 0x80, 0x83:
		if err := d.modRM(); err != nil {
			return err
		}
		d.reads(false, op == 0x80)
		return d.imm(1, aluOp(d.reg()))
	case 0x6b, 0xc0, 0xc1, 0xc6:
		if err := d.modRM(); err != nil {
			return err
		}
		if op != 0xc6 {
			d.inst.Op = OpOther // imul, shifts: they set the flags
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
		d.reads(false, false)
		return d.imm(d.immZ(), aluOp(d.reg()))
	case 0xc7:
		if err := d.modRM(); err != nil {
			return err
		}
		if d.modrm == 0xf8 { // xbegin rel32
			return d.skip(d.immZ())
		}
		if d.mod() == 3 && d.reg() == 0 && !d.opsize {
			d.inst.Writes = d.rmX() // mov $imm32, %reg
			return d.addressImm()
		}
		return d.skip(d.immZ())
	case 0xa0, 0xa1, 0xa2, 0xa3: // mov with a 64-bit absolute address
		return d.skip(8)
	case 0xa9:
		d.inst.Reads = 1
		return d.imm(d.immZ(), OpTest)
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
			d.reads(false, op == 0xf6)
			if op == 0xf6 {
				return d.imm(1, OpTest)
			}
			return d.imm(d.immZ(), OpTest)
		}
		d.inst.Op = OpOther // not, neg, mul, div
		return nil
	case 0xff:
		if err := d.modRM(); err != nil {
			return err
		}
		switch d.reg() {
		case 0, 1:
			d.inst.Op = OpOther // inc, dec
		case 2, 3:
			d.inst.Flow = FlowCall
		case 4, 5:
			d.inst.Flow = FlowIndirect
		}
		return nil
	}
	return ErrInvalid
}

// aluOp is the comparison of the ALU operation n (ModRM reg of 80-83,
// or bits 3-5 of the opcodes 00-3F): 4 and, 7 cmp.
func aluOp(n byte) Op {
	switch n {
	case 4:
		return OpAnd
	case 7:
		return OpCmp
	}
	return OpOther
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
		d.inst.Cond = int8(op & 0xf)
		return d.branch(4, FlowCond)
	case op == 0xa2: // cpuid
		d.inst.CPUID = true
		return nil
	case op == 0x0e: // femms: 3DNow!
		d.inst.Needs |= ThreeDNow
		return nil
	case op >= 0xc8 && op <= 0xcf, op >= 0x30 && op <= 0x37, op == 0x05, op == 0x06, op == 0x07,
		op == 0x08, op == 0x09, op == 0x77, op == 0xa0, op == 0xa1,
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
	if op == 0x01 && d.modrm == 0xd0 { // xgetbv
		d.inst.CPUID = true
	}
	switch op {
	case 0xa3: // bt r/m, r
		d.inst.Op = OpBt
		d.reads(true, false)
	case 0xb6, 0xb7, 0xbe, 0xbf: // movzx, movsx
		d.inst.Writes = d.regX()
	case 0xba: // group 8: bt (4), bts, btr, btc r/m, imm8
		if d.reg() == 4 {
			d.reads(false, false)
			return d.imm(1, OpBt)
		}
		return d.skip(1)
	case 0x70, 0x71, 0x72, 0x73, 0xa4, 0xac, 0xc2, 0xc4, 0xc5, 0xc6:
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
