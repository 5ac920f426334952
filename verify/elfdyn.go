package verify

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// dynInfo is what a file's dynamic section tells the dynamic linker: the
// libraries it needs and where to look for them.
type dynInfo struct {
	needed  []string
	soname  string
	rpath   []string
	runpath []string
}

// dynHeadLen is how much of an ELF file's start is kept while it streams,
// for its dynamic string table (which linkers place in the first
// segment, well before the dynamic section). A file whose table lies
// beyond is read again from its extracted copy, when it has one.
var dynHeadLen uint64 = 4 << 20

// maxDynamic bounds the dynamic section kept (a real one is a few
// hundred entries).
const maxDynamic = 1 << 20

// ELF dynamic tags (elf.h).
const (
	dtNull    = 0
	dtNeeded  = 1
	dtStrtab  = 5
	dtStrsz   = 10
	dtSoname  = 14
	dtRpath   = 15
	dtRunpath = 29
	ptLoad    = 1
	ptDynamic = 2
)

// phdr is one program header of a 64-bit ELF file.
type phdr struct {
	typ                uint32
	off, vaddr, filesz uint64
}

// phdrs reads the program headers of a little-endian 64-bit ELF file from
// its head; ok is false when they are not all in it (or the file is not
// one).
func phdrs(head []byte) ([]phdr, bool) {
	if len(head) < 64 || !bytes.HasPrefix(head, []byte{0x7f, 'E', 'L', 'F', 2, 1}) {
		return nil, false
	}
	le := binary.LittleEndian
	off, ent, n := le.Uint64(head[32:]), uint64(le.Uint16(head[54:])), uint64(le.Uint16(head[56:]))
	if ent < 56 || n > 1024 || off > uint64(len(head)) || off+ent*n > uint64(len(head)) {
		return nil, false
	}
	out := make([]phdr, 0, n)
	for k := uint64(0); k < n; k++ {
		p := head[off+k*ent:]
		out = append(out, phdr{typ: le.Uint32(p), off: le.Uint64(p[8:]), vaddr: le.Uint64(p[16:]), filesz: le.Uint64(p[32:])})
	}
	return out, true
}

// dynCapture keeps, of an ELF file streaming through it, its first
// dynHeadLen bytes and its dynamic section, so that dynInfo can be read
// without a copy of the file.
type dynCapture struct {
	buf      []byte // reused: the head
	dyn      []byte
	ph       []phdr
	dynOff   uint64
	dynSize  uint64
	pos      uint64
	headKeep uint64
}

// reset starts capturing a file of size bytes whose first bytes are head.
func (c *dynCapture) reset(head []byte, size int64) bool {
	ph, ok := phdrs(head)
	c.ph, c.pos, c.dyn, c.dynSize = ph, 0, c.dyn[:0], 0
	if !ok {
		return false
	}
	for _, p := range ph {
		if p.typ == ptDynamic && p.filesz > 0 && p.filesz <= maxDynamic && p.off <= uint64(size) && p.filesz <= uint64(size)-p.off {
			c.dynOff, c.dynSize = p.off, p.filesz
		}
	}
	if c.dynSize == 0 {
		return false
	}
	// The string table is in the first loaded segment (with the
	// headers, before the code, as linkers lay files out): keep only it.
	c.headKeep = min(uint64(size), dynHeadLen)
	for _, p := range ph {
		if p.typ == ptLoad && p.off == 0 {
			c.headKeep = min(c.headKeep, p.filesz)
			break
		}
	}
	if c.buf == nil {
		c.buf = make([]byte, 0, min(dynHeadLen, 64<<10))
	}
	c.buf = c.buf[:0]
	return true
}

// Write records the bytes of the file at the current position.
func (c *dynCapture) Write(p []byte) (int, error) {
	start, end := c.pos, c.pos+uint64(len(p))
	if start < c.headKeep {
		c.buf = append(c.buf, p[:min(end, c.headKeep)-start]...)
	}
	if lo, hi := max(start, c.dynOff), min(end, c.dynOff+c.dynSize); lo < hi {
		c.dyn = append(c.dyn, p[lo-start:hi-start]...)
	}
	c.pos = end
	return len(p), nil
}

// info parses what was captured; an error says why nothing could be read
// (a dynamic section or string table outside the file, or beyond the
// head kept).
func (c *dynCapture) info() (*dynInfo, error) {
	if uint64(len(c.dyn)) != c.dynSize {
		return nil, fmt.Errorf("dynamic section truncated (%d of %d bytes)", len(c.dyn), c.dynSize)
	}
	le := binary.LittleEndian
	var strtab, strsz uint64
	var needed []uint64
	var soname, rpath, runpath uint64
	has := map[int64]bool{}
	for i := 0; i+16 <= len(c.dyn); i += 16 {
		tag, val := int64(le.Uint64(c.dyn[i:])), le.Uint64(c.dyn[i+8:])
		if tag == dtNull {
			break
		}
		has[tag] = true
		switch tag {
		case dtNeeded:
			if len(needed) < 4096 {
				needed = append(needed, val)
			}
		case dtStrtab:
			strtab = val
		case dtStrsz:
			strsz = val
		case dtSoname:
			soname = val
		case dtRpath:
			rpath = val
		case dtRunpath:
			runpath = val
		}
	}
	if !has[dtStrtab] {
		if len(needed) > 0 || has[dtSoname] {
			return nil, fmt.Errorf("no dynamic string table")
		}
		return &dynInfo{}, nil
	}
	off, ok := c.fileOffset(strtab)
	if !ok {
		return nil, fmt.Errorf("dynamic string table at %#x is in no loaded segment", strtab)
	}
	if off > uint64(len(c.buf)) || strsz > uint64(len(c.buf))-off {
		return nil, fmt.Errorf("dynamic string table at offset %d (%d bytes) is beyond the first %d bytes kept", off, strsz, len(c.buf))
	}
	tab := c.buf[off : off+strsz]
	str := func(o uint64) string {
		if o >= uint64(len(tab)) {
			return ""
		}
		s, _, _ := bytes.Cut(tab[o:], []byte{0})
		return string(s[:min(len(s), 4096)])
	}
	d := &dynInfo{}
	for _, o := range needed {
		if s := str(o); s != "" {
			d.needed = append(d.needed, s)
		}
	}
	if has[dtSoname] {
		d.soname = str(soname)
	}
	if has[dtRpath] {
		d.rpath = splitPath(str(rpath))
	}
	if has[dtRunpath] {
		d.runpath = splitPath(str(runpath))
	}
	return d, nil
}

// fileOffset maps a virtual address to its offset in the file.
func (c *dynCapture) fileOffset(vaddr uint64) (uint64, bool) {
	for _, p := range c.ph {
		if p.typ == ptLoad && vaddr >= p.vaddr && vaddr-p.vaddr < p.filesz {
			return p.off + (vaddr - p.vaddr), true
		}
	}
	return 0, false
}

func splitPath(s string) []string {
	var out []string
	for _, d := range strings.Split(s, ":") {
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}

// teeTo copies r to w as it is read; w never fails.
type teeTo struct {
	r io.Reader
	w io.Writer
}

func (t teeTo) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.w.Write(p[:n])
	}
	return n, err
}
