package fatbin

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Forms of files that hold GPU code.
const (
	FormELF    = "elf"    // a host program or library: its .nv_fatbin section
	FormFatbin = "fatbin" // a .fatbin container file
	FormCubin  = "cubin"  // a CUDA ELF module (.cubin)
	FormPTX    = "ptx"    // PTX text (.ptx)
)

// Reading is the GPU code of one file, as the CUDA runtime loads it.
type Reading struct {
	// Form is the kind of file (FormELF...), "" when it holds no GPU code.
	Form string `json:"form,omitempty"`
	// Entries are the code objects the runtime loads, each kind once.
	Entries []Entry `json:"entries,omitempty"`
	// Unloaded counts the containers outside .nv_fatbin (__nv_relfatbin):
	// present, never loaded, not read.
	Unloaded int `json:"unloaded,omitempty"`
	// Unsectioned is true when the program's section headers could not
	// be read: every container in it was counted.
	Unsectioned bool `json:"unsectioned,omitempty"`
	// Dropped counts the distinct entries beyond the bound kept.
	Dropped int `json:"dropped,omitempty"`
}

const (
	window     = 1 << 16
	emCUDA     = 190     // e_machine of a CUDA ELF module
	maxRuns    = 4096    // container runs kept per file; more merge into the last
	maxSHTable = 4 << 20 // section header tables larger than this are not read
	shstrSlack = 1 << 16 // how far before the section headers .shstrtab is looked for
)

// Read reads r through and returns the GPU code it holds. Only read errors
// are returned: what is not GPU code, or is malformed, reads as none.
func Read(r io.Reader) (Reading, error) {
	// The ELF header says where the section headers are: read it first,
	// so that the bytes to keep are known before any passes.
	first := make([]byte, 64)
	n, err := io.ReadFull(r, first)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && err != io.EOF {
		return Reading{}, err
	}
	first, err = first[:n], nil
	cr := &captureReader{r: r}
	var sh *shTable
	if n == 64 && bytes.HasPrefix(first, []byte("\x7fELF")) && binary.LittleEndian.Uint16(first[0x12:]) != emCUDA {
		if sh = sectionTable(first); sh != nil {
			cr.lo, cr.hi = sh.lo, sh.hi
		}
	}
	cr.feed(first)
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(first), cr), window)
	head, _ := br.Peek(headLen)
	head = bytes.Clone(head)
	var res Reading
	switch {
	case bytes.HasPrefix(head, Magic):
		res, err = scanStream(br, cr, nil)
		res.Form = FormFatbin
	case bytes.HasPrefix(head, []byte("\x7fELF")) && len(head) >= 64:
		if binary.LittleEndian.Uint16(head[0x12:]) == emCUDA && head[5] == 1 {
			res, err = readCubin(br, head)
			break
		}
		res, err = scanStream(br, cr, sh)
		if len(res.Entries) > 0 || res.Unloaded > 0 {
			res.Form = FormELF
		}
	case isPTX(head):
		res, err = readPTX(br)
	}
	if err != nil {
		return res, err
	}
	_, err = io.Copy(io.Discard, br)
	return res, err
}

// captureReader keeps the bytes of [lo, hi) of what passes through it:
// where a program's section headers and their names are.
type captureReader struct {
	r      io.Reader
	pos    uint64
	lo, hi uint64
	buf    []byte
}

func (c *captureReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.feed(p[:n])
	return n, err
}

// feed keeps what of p, the next bytes of the file, falls in [lo, hi).
func (c *captureReader) feed(p []byte) {
	if c.hi > c.lo && len(p) > 0 {
		start, end := c.pos, c.pos+uint64(len(p))
		if end > c.lo && start < c.hi {
			a, b := max(start, c.lo), min(end, c.hi)
			c.buf = append(c.buf, p[a-start:b-start]...)
		}
	}
	c.pos += uint64(len(p))
}

// shTable is where a 64-bit little-endian ELF file's section headers are.
type shTable struct {
	off, entsize, num, strndx uint64
	lo, hi                    uint64 // the bytes to keep: the table and what precedes it
}

// sectionTable reads the ELF header; nil when the section headers cannot
// be found or are too large to keep.
func sectionTable(h []byte) *shTable {
	le := binary.LittleEndian
	if h[4] != 2 || h[5] != 1 {
		return nil
	}
	t := &shTable{off: le.Uint64(h[0x28:]), entsize: uint64(le.Uint16(h[0x3a:])), num: uint64(le.Uint16(h[0x3c:])), strndx: uint64(le.Uint16(h[0x3e:]))}
	if t.off == 0 || t.num == 0 || t.entsize < 64 || t.num*t.entsize > maxSHTable || t.strndx >= t.num {
		return nil
	}
	t.lo, t.hi = t.off-min(t.off, shstrSlack), t.off+t.num*t.entsize
	return t
}

// fatbinRanges returns the file ranges of the .nv_fatbin sections, from the
// captured bytes; ok is false when the headers or their names were not
// captured.
func (t *shTable) fatbinRanges(buf []byte) (ranges [][2]uint64, ok bool) {
	le := binary.LittleEndian
	if uint64(len(buf)) != t.hi-t.lo {
		return nil, false
	}
	sh := func(i uint64) []byte { return buf[t.off-t.lo+i*t.entsize:][:64] }
	str := sh(t.strndx)
	stroff, strsize := le.Uint64(str[0x18:]), le.Uint64(str[0x20:])
	if stroff < t.lo || stroff+strsize > t.hi || strsize > t.hi-stroff {
		return nil, false
	}
	names := buf[stroff-t.lo : stroff-t.lo+strsize]
	for i := range t.num {
		s := sh(i)
		name := uint64(le.Uint32(s))
		if name >= uint64(len(names)) {
			continue
		}
		n := names[name:]
		if end := bytes.IndexByte(n, 0); end >= 0 && string(n[:end]) == ".nv_fatbin" {
			off, size := le.Uint64(s[0x18:]), le.Uint64(s[0x20:])
			ranges = append(ranges, [2]uint64{off, off + size})
		}
	}
	return ranges, true
}

// run is a run of adjacent containers and the entries they hold.
type run struct {
	start, end uint64
	set        entrySet
}

// scanStream finds every container in br (whose consumed bytes start at
// file offset 0) and keeps those inside a .nv_fatbin section of sh (all of
// them when sh is nil or its names cannot be read).
func scanStream(br *bufio.Reader, cr *captureReader, sh *shTable) (Reading, error) {
	s := &scanner{br: br}
	err := s.run()
	var res Reading
	var ranges [][2]uint64
	sectioned := false
	if sh != nil {
		ranges, sectioned = sh.fatbinRanges(cr.buf)
	}
	res.Unsectioned = !sectioned && len(s.runs) > 0
	var all entrySet
	for i := range s.runs {
		r := &s.runs[i]
		if sectioned && !inside(ranges, r.start) {
			res.Unloaded++
			continue
		}
		for e := range r.set.m {
			all.add(e)
		}
		all.dropped += r.set.dropped
	}
	res.Entries, res.Dropped = all.list(), all.dropped
	return res, err
}

func inside(ranges [][2]uint64, off uint64) bool {
	for _, r := range ranges {
		if off >= r[0] && off < r[1] {
			return true
		}
	}
	return false
}

// scanner finds containers in a stream.
type scanner struct {
	br   *bufio.Reader
	pos  uint64 // file offset of the cursor
	runs []run
	kept int // distinct entries kept over all runs
	buf  []byte
}

func (s *scanner) run() error {
	for {
		buf, err := s.br.Peek(window)
		if len(buf) < len(Magic) {
			return ignoreEOF(err)
		}
		i := bytes.Index(buf, Magic)
		if i < 0 {
			if err := s.discard(uint64(len(buf) - len(Magic) + 1)); err != nil {
				return err
			}
			continue
		}
		if err := s.discard(uint64(i)); err != nil {
			return err
		}
		if err := s.container(); err != nil {
			return err
		}
	}
}

func (s *scanner) discard(n uint64) error {
	for n > 0 {
		d, err := s.br.Discard(int(min(n, 1<<30)))
		n -= uint64(d)
		s.pos += uint64(d)
		if err != nil {
			return ignoreEOF(err)
		}
	}
	return nil
}

// container reads the container at the cursor, or skips its magic when
// it starts none.
func (s *scanner) container() error {
	start := s.pos
	h, err := s.br.Peek(headerSize)
	if err != nil {
		return ignoreEOF(s.discard(uint64(len(h))))
	}
	size, err := header(h)
	if err != nil {
		return s.discard(uint64(len(Magic)))
	}
	if err := s.discard(headerSize); err != nil {
		return err
	}
	var found []Entry
	compactAt := 1024
	for left := size; left >= entryMin; {
		b, err := s.br.Peek(entryMin)
		if err != nil {
			return ignoreEOF(err) // cut short: what it held is not trusted
		}
		eh, err := parseEntry(b)
		if err != nil || eh.hsize+eh.padded > left {
			return nil // not a container after all; scan on from here
		}
		e, err := s.entry(eh, start)
		if err != nil {
			return err
		}
		found = append(found, e)
		left -= eh.hsize + eh.padded
		if len(found) >= compactAt { // only distinct entries matter: keep the memory flat
			slices.SortFunc(found, Entry.compare)
			found = slices.Compact(found)
			if len(found) >= maxEntries {
				found = found[:maxEntries-1]
			}
			compactAt = max(1024, 2*len(found))
		}
	}
	s.record(start, s.pos, found)
	return nil
}

// entry reads the entry at the cursor (its header, then its payload).
func (s *scanner) entry(h entryHeader, start uint64) (Entry, error) {
	if err := s.discard(h.hsize); err != nil {
		return Entry{}, err
	}
	set := s.current(start)
	if h.padded <= maxDecode {
		if uint64(cap(s.buf)) < h.padded {
			s.buf = make([]byte, h.padded)
		}
		p := s.buf[:h.padded]
		n, err := io.ReadFull(s.br, p)
		s.pos += uint64(n)
		if err != nil {
			return Entry{}, ignoreEOF(err)
		}
		return inspect(h, p, set), nil
	}
	head, _ := s.br.Peek(window) // a compressed module's first block
	e := inspectHead(h, head)
	return e, s.discard(h.padded)
}

// current is the entry set of the run a container at start joins, for
// knowing which kinds already have kernels (nil: a new run).
func (s *scanner) current(start uint64) *entrySet {
	if n := len(s.runs); n > 0 && start-s.runs[n-1].end < 16 {
		return &s.runs[n-1].set
	}
	return nil
}

// record adds a container's entries to the run it continues (one that
// ended at most 16 bytes before it: alignment), or starts a run.
func (s *scanner) record(start, end uint64, es []Entry) {
	n := len(s.runs)
	if n == 0 || (start-s.runs[n-1].end >= 16 && n < maxRuns) {
		s.runs = append(s.runs, run{start: start})
		n++
	}
	r := &s.runs[n-1]
	r.end = end
	for _, e := range es {
		if r.set.has(e) {
			continue
		}
		if s.kept >= maxEntries {
			r.set.dropped++
			continue
		}
		r.set.add(e)
		s.kept++
	}
}

func ignoreEOF(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

// inspectHead reads an entry of which only the start of the payload is at
// hand: its suffix; a module that large holds kernels.
func inspectHead(h entryHeader, head []byte) Entry {
	e := Entry{Kind: h.kind, SM: h.sm}
	if d, ok := decode(h, head[:min(len(head), int(h.padded))], headLen); ok {
		e.Suffix = suffix(h.kind, d)
	}
	return e
}

// readCubin reads a CUDA ELF module: its SM version and "a" marker from
// e_flags (LLVM's ELF.h: the SM in the low byte before ABI 8, in bits
// 8..15 from it), whether it holds a kernel when it is small enough to
// look.
func readCubin(br *bufio.Reader, head []byte) (Reading, error) {
	flags := binary.LittleEndian.Uint32(head[0x30:])
	sm := int(flags & 0xff)
	if head[8] >= 8 {
		sm = int(flags >> 8 & 0xff)
	}
	if sm < 10 {
		return Reading{}, nil
	}
	e := Entry{Kind: KindELF, SM: sm, Suffix: suffix(KindELF, head)}
	data, err := readUpTo(br, maxDecode)
	if err != nil {
		return Reading{}, err
	}
	if len(data) < maxDecode {
		e.Empty = !hasKernel(KindELF, data)
	}
	return Reading{Form: FormCubin, Entries: []Entry{e}}, nil
}

// isPTX reports whether the start of a file is PTX text as ptxas and the
// driver read it: after blank and // comment lines, a .version directive,
// and a .target sm_ one. Text that merely holds PTX (a source file with a
// PTX template) is not PTX.
func isPTX(head []byte) bool {
	rest := head
	for len(rest) > 0 {
		line, after, _ := bytes.Cut(rest, []byte("\n"))
		t := bytes.TrimSpace(line)
		switch {
		case len(t) == 0, bytes.HasPrefix(t, []byte("//")):
			rest = after
			continue
		case bytes.HasPrefix(t, []byte(".version ")):
			return bytes.Contains(after, []byte(".target sm_"))
		}
		return false
	}
	return false
}

// readPTX reads PTX text: its target (compute_XY, suffix included) and
// whether it has an .entry.
func readPTX(br *bufio.Reader) (Reading, error) {
	data, err := readUpTo(br, maxDecode)
	if err != nil {
		return Reading{}, err
	}
	t := strings.TrimPrefix(ptxTarget(data), "sm_")
	digits := strings.TrimRight(t, "af")
	sm, err := strconv.Atoi(digits)
	if err != nil || sm < 10 || sm > 999 {
		return Reading{}, nil
	}
	e := Entry{Kind: KindPTX, SM: sm, Suffix: t[len(digits):]}
	if len(data) < maxDecode {
		e.Empty = !hasKernel(KindPTX, data)
	}
	return Reading{Form: FormPTX, Entries: []Entry{e}}, nil
}

// readUpTo reads at most n bytes of br.
func readUpTo(br *bufio.Reader, n int) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(br, int64(n)))
	return data, err
}

// Sniff reports whether a file that starts with head may hold GPU code
// Read finds: an ELF file, a fat binary container, PTX text.
func Sniff(head []byte) bool {
	return bytes.HasPrefix(head, []byte("\x7fELF")) || bytes.HasPrefix(head, Magic) || isPTX(head[:min(len(head), headLen)])
}
