package fatbin

import (
	"bytes"
	"encoding/binary"
	"io"
	"runtime"
	"slices"
	"testing"
)

// hostileStream is n bytes of back-to-back minimal containers, each with
// one entry of its own SM version and kind, flagged compressed: the shape
// that once kept one record per container (issue 17 D7: a 1 GiB ELF file
// took 1.5 GiB of memory).
type hostileStream struct {
	block []byte
	left  int64
	off   int
}

func newHostileStream(n int64) *hostileStream {
	le := binary.LittleEndian
	var block []byte
	for i := range 4096 {
		c := make([]byte, headerSize+entryMin+8)
		copy(c, Magic)
		le.PutUint16(c[4:], 1)
		le.PutUint16(c[6:], headerSize)
		le.PutUint64(c[8:], entryMin+8)
		e := c[headerSize:]
		le.PutUint16(e, []uint16{KindELF, KindPTX}[i%2])
		le.PutUint32(e[4:], entryMin)
		le.PutUint64(e[8:], 8)
		le.PutUint32(e[16:], 8)
		le.PutUint32(e[28:], uint32(10+i%990))
		le.PutUint64(e[40:], flagLZ4)
		le.PutUint64(e[56:], 1<<30) // claims 1 GiB uncompressed
		copy(e[entryMin:], []byte{0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		block = append(block, c...)
	}
	return &hostileStream{block: block, left: n}
}

func (h *hostileStream) Read(p []byte) (int, error) {
	if h.left <= 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(int64(len(p)), h.left)], h.block[h.off:])
	h.off = (h.off + n) % len(h.block)
	h.left -= int64(n)
	return n, nil
}

// TestReadBounded reads 256 MiB of hostile containers: what Read keeps
// stays bounded (distinct entries, at most maxEntries), and so does the
// heap it leaves behind.
func TestReadBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 256 MiB")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := Read(newHostileStream(256 << 20))
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if len(r.Entries) > maxEntries || len(r.Entries) < 900 {
		t.Errorf("Read kept %d entries, want the 990 distinct ones, at most %d", len(r.Entries), maxEntries)
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<20 {
		t.Errorf("Read left %d MiB on the heap for 256 MiB of containers, want < 8 MiB", grew>>20)
	}
	t.Logf("%d entries, heap %d -> %d KiB, %d MiB allocated in all", len(r.Entries), before.HeapAlloc>>10, after.HeapAlloc>>10, (after.TotalAlloc-before.TotalAlloc)>>20)
}

// TestReadOneHugeContainer: one container of 64 MiB of entries, a
// thousand distinct kinds among them, reads in bounded memory and time.
func TestReadOneHugeContainer(t *testing.T) {
	le := binary.LittleEndian
	const n = 64 << 20 / (entryMin + 8)
	body := make([]byte, 0, n*(entryMin+8))
	for i := range n {
		e := make([]byte, entryMin+8)
		le.PutUint16(e, KindELF)
		le.PutUint32(e[4:], entryMin)
		le.PutUint64(e[8:], 8)
		le.PutUint32(e[28:], uint32(10+i%990))
		body = append(body, e...)
	}
	data := append(slices.Clone(Magic), 1, 0, headerSize, 0)
	data = le.AppendUint64(data, uint64(len(body)))
	r, err := Read(bytes.NewReader(append(data, body...)))
	if err != nil || len(r.Entries) != 990 || r.Form != FormFatbin {
		t.Errorf("Read = %d entries (%s), %v; want 990", len(r.Entries), r.Form, err)
	}
}
