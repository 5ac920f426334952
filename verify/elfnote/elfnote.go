package elfnote

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrNotELF is returned for data that does not start with an ELF header.
var ErrNotELF = errors.New("elfnote: not an ELF file")

// ErrMalformed is returned for an ELF file whose headers are inconsistent.
var ErrMalformed = errors.New("elfnote: malformed ELF headers")

// MaxHead bounds how much of a file Read takes: headers and notes live in
// the first pages; a file whose notes are beyond is read as having none.
const MaxHead = 1 << 20

// ELF constants (elf.h; binutils include/elf/common.h).
const (
	ptInterp       = 3
	ptNote         = 4
	ptGNUProperty  = 0x6474e553
	ntGNUProperty  = 5
	etExec         = 2
	etDyn          = 3
	emX86_64       = 62
	emAArch64      = 183
	x86ISANeeded   = 0xc0008002 // GNU_PROPERTY_X86_ISA_1_NEEDED
	x86ISAUsed     = 0xc0010002 // GNU_PROPERTY_X86_ISA_1_USED
	x86CompatNeed  = 0xc0000001 // GNU_PROPERTY_X86_COMPAT_ISA_1_NEEDED (binutils < 2.35)
	maxPhnum       = 1024
	maxPropertyLen = 1 << 16
)

// Info is what the head of an ELF file says.
type Info struct {
	// Class is 32 or 64.
	Class int `json:"class"`
	// Machine is e_machine (62: x86-64, 183: AArch64).
	Machine uint16 `json:"machine"`
	// Type is e_type (2: executable, 3: shared object or PIE).
	Type uint16 `json:"type"`
	// Interp is the PT_INTERP path ("/lib64/ld-linux-x86-64.so.2"); empty
	// for a static executable or a library.
	Interp string `json:"interp,omitempty"`
	// ISANeeded is the x86-64 level the file needs by its
	// GNU_PROPERTY_X86_ISA_1_NEEDED note: 2, 3 or 4; 1 for a note of
	// baseline only; 0 without one.
	ISANeeded int `json:"isa_needed,omitempty"`
	// CompatNeeded are the extensions the pre-2.35 binutils note
	// (GNU_PROPERTY_X86_COMPAT_ISA_1_NEEDED) lists, catalog names.
	CompatNeeded []string `json:"compat_needed,omitempty"`
	// ISAUsed is the highest level of GNU_PROPERTY_X86_ISA_1_USED (what
	// the assembler saw; informative only).
	ISAUsed int `json:"isa_used,omitempty"`
}

// IsX86_64 reports whether the file is x86-64 code.
func (i *Info) IsX86_64() bool { return i.Machine == emX86_64 && i.Class == 64 }

// IsAArch64 reports whether the file is AArch64 code.
func (i *Info) IsAArch64() bool { return i.Machine == emAArch64 }

// IsExecutable reports whether the file is an executable or shared object.
func (i *Info) IsExecutable() bool { return i.Type == etExec || i.Type == etDyn }

// Magic is how every ELF file starts.
var Magic = []byte{0x7f, 'E', 'L', 'F'}

// Read reads the head of an ELF file from r, consuming what it needs of
// it (at most MaxHead bytes), and returns what it says. ErrNotELF means
// the data is something else.
func Read(r io.Reader) (*Info, error) {
	h := &head{r: r}
	if err := h.need(64); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) && h.has(4) && bytes.Equal(h.buf[:4], Magic) {
			return nil, fmt.Errorf("%w: truncated header", ErrMalformed)
		}
		if !h.has(4) || !bytes.Equal(h.buf[:4], Magic) {
			return nil, ErrNotELF
		}
		return nil, err
	}
	if !bytes.Equal(h.buf[:4], Magic) {
		return nil, ErrNotELF
	}
	return parse(h)
}

// Parse is Read for a file already in memory (its first bytes suffice).
func Parse(data []byte) (*Info, error) { return Read(bytes.NewReader(data)) }

// head buffers the first bytes of a stream as they are needed.
type head struct {
	r   io.Reader
	buf []byte
	eof bool
}

func (h *head) has(n int) bool { return len(h.buf) >= n }

// need reads until the buffer holds n bytes.
func (h *head) need(n int) error {
	if n > MaxHead {
		return fmt.Errorf("%w: headers beyond the first %d bytes", ErrMalformed, MaxHead)
	}
	if len(h.buf) >= n {
		return nil
	}
	if h.eof {
		return io.ErrUnexpectedEOF
	}
	more := make([]byte, n-len(h.buf))
	k, err := io.ReadFull(h.r, more)
	h.buf = append(h.buf, more[:k]...)
	if err != nil {
		h.eof = true
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

// segment is a program header's file extent.
type segment struct {
	typ         uint32
	off, size   uint64
	align       uint64
	interesting bool
}

func parse(h *head) (*Info, error) {
	b := h.buf
	if b[5] != 1 { // EI_DATA: little-endian only (x86, arm64 as run)
		return &Info{Class: classOf(b[4])}, nil
	}
	le := binary.LittleEndian
	info := &Info{Class: classOf(b[4]), Type: le.Uint16(b[16:]), Machine: le.Uint16(b[18:])}
	var phoff uint64
	var phentsize, phnum int
	switch info.Class {
	case 64:
		phoff, phentsize, phnum = le.Uint64(b[32:]), int(le.Uint16(b[54:])), int(le.Uint16(b[56:]))
	case 32:
		phoff, phentsize, phnum = uint64(le.Uint32(b[28:])), int(le.Uint16(b[42:])), int(le.Uint16(b[44:]))
	default:
		return nil, fmt.Errorf("%w: class %d", ErrMalformed, b[4])
	}
	if phnum == 0 {
		return info, nil
	}
	min := 56
	if info.Class == 32 {
		min = 32
	}
	if phnum > maxPhnum || phentsize < min || phoff > MaxHead {
		return nil, fmt.Errorf("%w: %d program headers of %d bytes at %d", ErrMalformed, phnum, phentsize, phoff)
	}
	end := phoff + uint64(phnum*phentsize)
	if err := h.need(int(end)); err != nil {
		return nil, fmt.Errorf("%w: program headers: %w", ErrMalformed, err)
	}
	var segs []segment
	for k := 0; k < phnum; k++ {
		p := h.buf[phoff+uint64(k*phentsize):]
		var s segment
		if info.Class == 64 {
			s = segment{typ: le.Uint32(p), off: le.Uint64(p[8:]), size: le.Uint64(p[32:]), align: le.Uint64(p[48:])}
		} else {
			s = segment{typ: le.Uint32(p), off: uint64(le.Uint32(p[4:])), size: uint64(le.Uint32(p[16:])), align: uint64(le.Uint32(p[28:]))}
		}
		if s.typ == ptInterp || s.typ == ptNote || s.typ == ptGNUProperty {
			segs = append(segs, s)
		}
	}
	for _, s := range segs {
		if s.off > MaxHead || s.size > MaxHead || s.off+s.size > MaxHead {
			continue // beyond the head: not read
		}
		if err := h.need(int(s.off + s.size)); err != nil {
			return nil, fmt.Errorf("%w: segment at %d: %w", ErrMalformed, s.off, err)
		}
		data := h.buf[s.off : s.off+s.size]
		switch s.typ {
		case ptInterp:
			info.Interp = string(bytes.TrimRight(data, "\x00"))
		default:
			if err := readNotes(info, data, s.align); err != nil {
				return nil, err
			}
		}
	}
	return info, nil
}

func classOf(c byte) int {
	switch c {
	case 1:
		return 32
	case 2:
		return 64
	}
	return 0
}
