package fatbin

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Magic starts a fat binary container (little-endian 0xBA55ED50).
var Magic = []byte{0x50, 0xed, 0x55, 0xba}

// Entry kinds.
const (
	KindPTX = 1
	KindELF = 2
	// KindELFAlt is another cubin kind cuobjdump lists as ELF.
	KindELFAlt = 0x10
)

// Entry header flags.
const (
	flagLZ4  = 0x2000
	flagZSTD = 0x8000
)

const (
	headerSize   = 16
	entryMin     = 64
	entryMax     = 4096
	maxContainer = 1 << 36 // 64 GiB: any larger size is not a container
)

// Entry is one kind of code object of a file: every object of the same
// kind, SM version, suffix and emptiness reads as one Entry.
type Entry struct {
	// Kind is KindPTX or KindELF (KindELFAlt reads as KindELF).
	Kind uint16 `json:"kind"`
	// SM is the SM version: 80 for sm_80 and compute_80, 100 for sm_100.
	SM int `json:"sm"`
	// Suffix is "a" for arch-specific code (sm_90a, compute_90a), "f" for
	// family PTX (compute_100f), "" otherwise. A family cubin (sm_100f) is
	// marked as plain sm_100 by ptxas, and reads so.
	Suffix string `json:"suffix,omitempty"`
	// Empty is true for a module without kernels (a device-link stub).
	Empty bool `json:"empty,omitempty"`
}

// Arch is the nvcc name of the entry's code: sm_80, sm_90a (native code)
// or compute_80 (PTX).
func (e Entry) Arch() string {
	kind := "sm"
	if e.Kind == KindPTX {
		kind = "compute"
	}
	return fmt.Sprintf("%s_%d%s", kind, e.SM, e.Suffix)
}

func (e Entry) compare(o Entry) int {
	return cmp.Or(cmp.Compare(e.Kind, o.Kind), cmp.Compare(e.SM, o.SM), cmp.Compare(e.Suffix, o.Suffix), boolCmp(e.Empty, o.Empty))
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// ErrMalformed is returned by Parse for a container whose headers do not
// hold together (a stream read skips such a magic as a false match).
var ErrMalformed = errors.New("fatbin: malformed container")

// header checks a container header and returns the size of its entries.
func header(h []byte) (uint64, error) {
	le := binary.LittleEndian
	if !bytes.Equal(h[:4], Magic) || le.Uint16(h[4:]) != 1 || le.Uint16(h[6:]) != headerSize {
		return 0, fmt.Errorf("%w: header % x", ErrMalformed, h)
	}
	size := le.Uint64(h[8:])
	if size > maxContainer {
		return 0, fmt.Errorf("%w: %d bytes of entries", ErrMalformed, size)
	}
	return size, nil
}

// entryHeader is what an entry's header says.
type entryHeader struct {
	kind   uint16
	sm     int
	hsize  uint64 // the header's size
	padded uint64 // the payload's size in the container
	csize  uint64 // the compressed payload's size, without padding
	flags  uint64
	full   uint64 // the uncompressed payload's size (compressed payloads)
}

// parseEntry reads an entry header at the start of b (at least 64 bytes).
func parseEntry(b []byte) (entryHeader, error) {
	le := binary.LittleEndian
	h := entryHeader{kind: le.Uint16(b), hsize: uint64(le.Uint32(b[4:])), padded: le.Uint64(b[8:]),
		csize: uint64(le.Uint32(b[16:])), sm: int(le.Uint32(b[28:])), flags: le.Uint64(b[40:]), full: le.Uint64(b[56:])}
	if !slices.Contains([]uint16{KindPTX, KindELF, KindELFAlt}, h.kind) {
		return h, fmt.Errorf("%w: entry kind %#x", ErrMalformed, h.kind)
	}
	if h.hsize < entryMin || h.hsize > entryMax || h.padded > maxContainer || h.sm < 10 || h.sm > 999 {
		return h, fmt.Errorf("%w: entry header of %d bytes, payload %d, SM %d", ErrMalformed, h.hsize, h.padded, h.sm)
	}
	if h.kind == KindELFAlt {
		h.kind = KindELF
	}
	return h, nil
}

// Parse returns the entries of the fat binary containers in data, one
// after the other as in a .fatbin file or a .nv_fatbin section, each kind
// once, sorted. A container that is cut short or malformed is an error.
func Parse(data []byte) ([]Entry, error) {
	var set entrySet
	for len(data) > 0 {
		if len(data) < headerSize {
			return set.list(), fmt.Errorf("%w: %d bytes, want a 16-byte header", ErrMalformed, len(data))
		}
		size, err := header(data[:headerSize])
		if err != nil {
			return set.list(), err
		}
		if size > uint64(len(data)-headerSize) {
			return set.list(), fmt.Errorf("%w: %d bytes of entries, %d present", ErrMalformed, size, len(data)-headerSize)
		}
		body := data[headerSize : headerSize+int(size)]
		for off := 0; off+entryMin <= len(body); {
			h, err := parseEntry(body[off:])
			if err != nil {
				return set.list(), err
			}
			if h.hsize+h.padded > uint64(len(body)-off) {
				return set.list(), fmt.Errorf("%w: entry at %d runs past the container", ErrMalformed, off)
			}
			payload := body[off+int(h.hsize) : off+int(h.hsize+h.padded)]
			set.add(inspect(h, payload, &set))
			off += int(h.hsize + h.padded)
		}
		// Containers one after the other are 8-byte aligned: skip padding.
		data = bytes.TrimLeft(data[headerSize+int(size):], "\x00")
	}
	return set.list(), nil
}

// maxEntries bounds the distinct entries kept for one file; a file that
// holds more is hostile, and the rest are counted, not kept.
const maxEntries = 4096

// entrySet is a bounded set of entries.
type entrySet struct {
	m       map[Entry]bool
	dropped int
}

func (s *entrySet) add(e Entry) {
	if s.m[e] {
		return
	}
	if len(s.m) >= maxEntries {
		s.dropped++
		return
	}
	if s.m == nil {
		s.m = map[Entry]bool{}
	}
	s.m[e] = true
}

// has reports whether the set holds e.
func (s *entrySet) has(e Entry) bool { return s.m[e] }

func (s *entrySet) list() []Entry {
	out := make([]Entry, 0, len(s.m))
	for e := range s.m {
		out = append(out, e)
	}
	slices.SortFunc(out, Entry.compare)
	return out
}

// Archs returns the distinct entry names (sm_80, compute_90) of the
// modules that hold kernels, sorted.
func Archs(es []Entry) []string {
	var out []string
	for _, e := range es {
		if !e.Empty {
			out = append(out, e.Arch())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// AllArchs returns the distinct entry names of every module, empty stubs
// included (what cuobjdump --list-elf --list-ptx names), sorted.
func AllArchs(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Arch())
	}
	slices.Sort(out)
	return slices.Compact(out)
}
