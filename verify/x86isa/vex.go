package x86isa

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

// evex decodes an EVEX-encoded instruction: AVX-512 (and AVX10), its
// subset told apart (evex.go).
func (d *decoder) evex() error {
	p0, err := d.byte()
	if err != nil {
		return err
	}
	p1, err := d.byte()
	if err != nil {
		return err
	}
	p2, err := d.byte()
	if err != nil {
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
	e := evexFields{mmap: mmap, op: op, pp: int(p1 & 3), w: p1&0x80 != 0, ll: p2 >> 5 & 3, b: p2&0x10 != 0, mod: d.mod(), reg: d.reg()}
	d.inst.Needs |= e.needs()
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
