package fatbin

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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

const (
	headerSize   = 16
	entryMin     = 64
	entryMax     = 4096
	maxContainer = 1 << 36 // 64 GiB: any larger size is not a container
	window       = 1 << 16
)

// Entry is one code object of a container.
type Entry struct {
	// Kind is KindPTX or KindELF (KindELFAlt).
	Kind uint16 `json:"kind"`
	// SM is the SM version: 80 for sm_80 and compute_80, 100 for sm_100.
	SM int `json:"sm"`
	// Size is the payload's size in the container (padded).
	Size uint64 `json:"size"`
}

// Arch is the nvcc name of the entry's code: sm_80 (native code) or
// compute_80 (PTX).
func (e Entry) Arch() string {
	kind := "sm"
	if e.Kind == KindPTX {
		kind = "compute"
	}
	return fmt.Sprintf("%s_%d", kind, e.SM)
}

// ErrMalformed is returned by Parse for a container whose headers do not
// hold together (Scan skips such a magic as a false match).
var ErrMalformed = errors.New("fatbin: malformed container")

// Scan reads r through and returns the entries of every fat binary
// container in it, in order. A magic number that starts no valid
// container is skipped. Only read errors are returned.
func Scan(r io.Reader) ([]Entry, error) {
	s := &scanner{br: bufio.NewReaderSize(r, window)}
	return s.run()
}

// Parse returns the entries of the containers in data (see Scan); a
// container that is cut short or malformed is an error.
func Parse(data []byte) ([]Entry, error) {
	var out []Entry
	for {
		i := bytes.Index(data, Magic)
		if i < 0 {
			return out, nil
		}
		data = data[i:]
		es, n, err := container(data)
		if err != nil {
			return out, err
		}
		out = append(out, es...)
		data = data[n:]
	}
}

// container reads the container at the start of data, returning its
// entries and its length.
func container(data []byte) ([]Entry, int, error) {
	if len(data) < headerSize {
		return nil, 0, fmt.Errorf("%w: %d bytes, want a 16-byte header", ErrMalformed, len(data))
	}
	size, err := header(data[:headerSize])
	if err != nil {
		return nil, 0, err
	}
	if size > uint64(len(data)-headerSize) {
		return nil, 0, fmt.Errorf("%w: %d bytes of entries, %d present", ErrMalformed, size, len(data)-headerSize)
	}
	var out []Entry
	body := data[headerSize : headerSize+int(size)]
	for off := 0; off+entryMin <= len(body); {
		e, n, err := entry(body[off:])
		if err != nil {
			return nil, 0, err
		}
		if n > uint64(len(body)-off) {
			return nil, 0, fmt.Errorf("%w: entry at %d runs past the container", ErrMalformed, off)
		}
		out = append(out, e)
		off += int(n)
	}
	return out, headerSize + int(size), nil
}

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

// entry reads an entry header at the start of b (at least 64 bytes) and
// returns it and the distance to the next entry.
func entry(b []byte) (Entry, uint64, error) {
	le := binary.LittleEndian
	kind, hsize := le.Uint16(b), uint64(le.Uint32(b[4:]))
	padded, sm := le.Uint64(b[8:]), int(le.Uint32(b[28:]))
	if !slices.Contains([]uint16{KindPTX, KindELF, KindELFAlt}, kind) {
		return Entry{}, 0, fmt.Errorf("%w: entry kind %#x", ErrMalformed, kind)
	}
	if hsize < entryMin || hsize > entryMax || padded > maxContainer || sm < 10 || sm > 999 {
		return Entry{}, 0, fmt.Errorf("%w: entry header of %d bytes, payload %d, SM %d", ErrMalformed, hsize, padded, sm)
	}
	if kind == KindELFAlt {
		kind = KindELF
	}
	return Entry{Kind: kind, SM: sm, Size: padded}, hsize + padded, nil
}

// scanner finds containers in a stream.
type scanner struct {
	br  *bufio.Reader
	out []Entry
}

func (s *scanner) run() ([]Entry, error) {
	for {
		buf, err := s.br.Peek(window)
		if len(buf) < len(Magic) {
			if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
				return s.out, nil
			}
			return s.out, err
		}
		i := bytes.Index(buf, Magic)
		if i < 0 {
			if _, err := s.br.Discard(len(buf) - len(Magic) + 1); err != nil {
				return s.out, err
			}
			continue
		}
		if _, err := s.br.Discard(i); err != nil {
			return s.out, err
		}
		if err := s.container(); err != nil {
			return s.out, err
		}
	}
}

// container reads the container at the cursor, or skips its magic when
// it starts none.
func (s *scanner) container() error {
	h, err := s.br.Peek(headerSize)
	if err != nil {
		_, err = s.br.Discard(len(h))
		return ignoreEOF(err)
	}
	size, err := header(h)
	if err != nil {
		_, err = s.br.Discard(len(Magic))
		return err
	}
	if _, err := s.br.Discard(headerSize); err != nil {
		return err
	}
	var found []Entry
	for left := size; left >= entryMin; {
		b, err := s.br.Peek(entryMin)
		if err != nil {
			return ignoreEOF(err) // cut short: what it held is not trusted
		}
		e, n, err := entry(b)
		if err != nil || n > left {
			return nil // not a container after all; scan on from here
		}
		if err := s.skip(n); err != nil {
			return err
		}
		found = append(found, e)
		left -= n
	}
	s.out = append(s.out, found...)
	return nil
}

// skip discards n bytes, which may be more than the buffer holds.
func (s *scanner) skip(n uint64) error {
	for n > 0 {
		k := int(min(n, 1<<30))
		d, err := s.br.Discard(k)
		n -= uint64(d)
		if err != nil {
			return ignoreEOF(err)
		}
	}
	return nil
}

func ignoreEOF(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil
	}
	return err
}

// Archs returns the distinct entry names (sm_80, compute_90), sorted.
func Archs(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Arch())
	}
	slices.Sort(out)
	return slices.Compact(out)
}
