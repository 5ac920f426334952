package elfnote

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"

	"github.com/tailor-dev/tailor/internal/gcctest"
)

// minimalELF builds a 64-bit x86-64 executable head with one PT_NOTE
// segment holding a GNU property note of the given properties (type,
// value), and a PT_INTERP when interp is set: the layout binutils writes.
func minimalELF(interp string, props ...[2]uint32) []byte {
	le := binary.LittleEndian
	var desc []byte
	for _, p := range props {
		desc = le.AppendUint32(desc, p[0])
		desc = le.AppendUint32(desc, 4)
		desc = le.AppendUint32(desc, p[1])
		desc = le.AppendUint32(desc, 0) // pad to 8
	}
	note := le.AppendUint32(nil, 4)
	note = le.AppendUint32(note, uint32(len(desc)))
	note = le.AppendUint32(note, ntGNUProperty)
	note = append(note, "GNU\x00"...)
	note = append(note, desc...)

	const ehsize, phentsize = 64, 56
	nph := 1
	if interp != "" {
		nph = 2
	}
	dataOff := uint64(ehsize + nph*phentsize)
	h := make([]byte, ehsize)
	copy(h, Magic)
	h[4], h[5], h[6] = 2, 1, 1
	le.PutUint16(h[16:], etExec)
	le.PutUint16(h[18:], emX86_64)
	le.PutUint64(h[32:], ehsize)
	le.PutUint16(h[52:], ehsize)
	le.PutUint16(h[54:], phentsize)
	le.PutUint16(h[56:], uint16(nph))
	ph := func(typ uint32, off, size, align uint64) []byte {
		p := make([]byte, phentsize)
		le.PutUint32(p, typ)
		le.PutUint64(p[8:], off)
		le.PutUint64(p[32:], size)
		le.PutUint64(p[40:], size)
		le.PutUint64(p[48:], align)
		return p
	}
	out := append(h, ph(ptNote, dataOff, uint64(len(note)), 8)...)
	if interp != "" {
		out = append(out, ph(ptInterp, dataOff+uint64(len(note)), uint64(len(interp)+1), 1)...)
	}
	out = append(out, note...)
	if interp != "" {
		out = append(out, interp+"\x00"...)
	}
	return append(out, make([]byte, 4096)...) // the rest of the file
}

func TestParseMinimal(t *testing.T) {
	cases := []struct {
		name   string
		data   []byte
		needed int
		used   int
		interp string
		compat []string
	}{
		{"baseline", minimalELF("", [2]uint32{x86ISANeeded, 1}), 1, 0, "", nil},
		{"v3 needed", minimalELF("/lib64/ld-linux-x86-64.so.2", [2]uint32{x86ISAUsed, 0xf}, [2]uint32{x86ISANeeded, 1 | 4}), 3, 4, "/lib64/ld-linux-x86-64.so.2", nil},
		{"v4 needed", minimalELF("", [2]uint32{x86ISANeeded, 8}), 4, 0, "", nil},
		{"compat avx2", minimalELF("", [2]uint32{x86CompatNeed, 1<<10 | 1<<4}), 0, 0, "", []string{"avx2"}},
		{"no note", minimalELF("/lib/ld.so"), 0, 0, "/lib/ld.so", nil},
		{"other property", minimalELF("", [2]uint32{0xc0000002, 3}), 0, 0, "", nil},
	}
	for _, c := range cases {
		info, err := Parse(c.data)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if info.ISANeeded != c.needed || info.ISAUsed != c.used || info.Interp != c.interp || !equal(info.CompatNeeded, c.compat) {
			t.Errorf("%s: %+v; want needed %d used %d interp %q compat %v", c.name, info, c.needed, c.used, c.interp, c.compat)
		}
		if !info.IsX86_64() || !info.IsExecutable() {
			t.Errorf("%s: not an x86-64 executable: %+v", c.name, info)
		}
		// One byte at a time, as a slow stream gives it.
		slow, err := Read(iotest.OneByteReader(bytes.NewReader(c.data)))
		if err != nil || slow.ISANeeded != info.ISANeeded || slow.Interp != info.Interp {
			t.Errorf("%s: one byte at a time: %+v, %v", c.name, slow, err)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParseErrors(t *testing.T) {
	good := minimalELF("", [2]uint32{x86ISANeeded, 4})
	cases := map[string]struct {
		data []byte
		want error
	}{
		"empty":        {nil, ErrNotELF},
		"text":         {[]byte("#!/bin/sh\necho hello\n"), ErrNotELF},
		"short magic":  {[]byte{0x7f, 'E'}, ErrNotELF},
		"truncated":    {good[:40], ErrMalformed},
		"cut in notes": {good[:64+56+10], ErrMalformed},
		"huge phnum":   {patch(good, 56, 0xffff), ErrMalformed},
		"bad class":    {patchByte(good, 4, 9), ErrMalformed},
		"note overrun": {patch32(good, 64+56+4, 0xfffff), ErrMalformed},
	}
	for name, c := range cases {
		if _, err := Parse(c.data); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
}

func patch(b []byte, off int, v uint16) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint16(b[off:], v)
	return b
}

func patch32(b []byte, off int, v uint32) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[off:], v)
	return b
}

func patchByte(b []byte, off int, v byte) []byte {
	b = bytes.Clone(b)
	b[off] = v
	return b
}

// countingReader counts what is read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestReadGCC reads what binutils writes: a baseline note for a plain
// build, x86-64-v3 for -Wl,-z,x86-64-v3 (whatever -march), and the
// interpreter of a dynamic build; Read consumes only the head.
func TestReadGCC(t *testing.T) {
	src := gcctest.Kernels(t)
	cases := []struct {
		march  string
		args   []string
		needed int
		interp bool
	}{
		{"x86-64", []string{"-static"}, 1, false},
		{"x86-64-v4", []string{"-static"}, 1, false}, // gcc marks no level of its own
		{"x86-64", []string{"-static", "-Wl,-z,x86-64-v3"}, 3, false},
		{"x86-64", []string{"-Wl,-z,x86-64-v4"}, 4, true},
		{"x86-64-v3", nil, 1, true},
	}
	for _, c := range cases {
		path := gcctest.Build(t, src, "kernels", c.march, c.args...)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cr := &countingReader{r: bytes.NewReader(data)}
		info, err := Read(cr)
		if err != nil {
			t.Fatalf("%s %v: %v", c.march, c.args, err)
		}
		if info.ISANeeded != c.needed || (info.Interp != "") != c.interp {
			t.Errorf("%s %v: needed %d interp %q; want %d, interp %v", c.march, c.args, info.ISANeeded, info.Interp, c.needed, c.interp)
		}
		if cr.n > 8192 || cr.n >= len(data) {
			t.Errorf("%s %v: read %d of %d bytes, want only the head", c.march, c.args, cr.n, len(data))
		}
	}
}

// FuzzParse: any bytes give an Info or an error, never a panic, and
// never more than MaxHead bytes read.
func FuzzParse(f *testing.F) {
	f.Add(minimalELF("", [2]uint32{x86ISANeeded, 4}))
	f.Add(minimalELF("/lib64/ld-linux-x86-64.so.2", [2]uint32{x86ISAUsed, 0xf}, [2]uint32{x86CompatNeed, 1 << 10}))
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cr := &countingReader{r: bytes.NewReader(data)}
		info, err := Read(cr)
		if err == nil && info == nil {
			t.Fatal("nil info without an error")
		}
		if cr.n > MaxHead {
			t.Fatalf("read %d bytes", cr.n)
		}
	})
}
