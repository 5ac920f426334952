package fatbin

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/tailor-dev/tailor/internal/cudatest"
)

// TestZstdPayloads: CUDA 12.8 and later compress fat binary payloads with
// ZSTD (Debian's nvcc 11.8, which CI has, writes LZ4). The cubins here are
// real (nvcc's kernel.cubin and the kernel-less stub of shared-nvcc), the
// container and its compression are this test's: it checks the decoding
// path (a kernel, a stub, the sm_XYa marker of ptxas's e_flags), not
// NVIDIA's layout, which a 12.8 toolkit would have to confirm.
func TestZstdPayloads(t *testing.T) {
	dir := cudatest.Dir(t)
	cubin, err := os.ReadFile(filepath.Join(dir, "kernel.cubin"))
	if err != nil {
		t.Fatal(err)
	}
	accel := slices.Clone(cubin)
	le := binary.LittleEndian
	le.PutUint32(accel[0x30:], le.Uint32(accel[0x30:])|efAcceleratorsV1)
	stub := stubCubin(t, filepath.Join(dir, "shared-nvcc"))
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	var body []byte
	for _, c := range []struct {
		sm   int
		data []byte
	}{{86, cubin}, {90, accel}, {52, stub}} {
		z := enc.EncodeAll(c.data, nil)
		padded := (len(z) + 7) &^ 7
		h := make([]byte, entryMin)
		le.PutUint16(h, KindELF)
		le.PutUint16(h[2:], 0x0101)
		le.PutUint32(h[4:], entryMin)
		le.PutUint64(h[8:], uint64(padded))
		le.PutUint32(h[16:], uint32(len(z)))
		le.PutUint32(h[28:], uint32(c.sm))
		le.PutUint64(h[40:], 0x11|flagZSTD)
		le.PutUint64(h[56:], uint64(len(c.data)))
		body = append(append(body, h...), append(z, make([]byte, padded-len(z))...)...)
	}
	data := append(slices.Clone(Magic), 1, 0, headerSize, 0)
	data = le.AppendUint64(data, uint64(len(body)))
	r, err := Read(bytes.NewReader(append(data, body...)))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{{Kind: KindELF, SM: 52, Empty: true}, {Kind: KindELF, SM: 86}, {Kind: KindELF, SM: 90, Suffix: "a"}}
	if !slices.Equal(r.Entries, want) {
		t.Errorf("Read(ZSTD container) = %+v, want %+v", r.Entries, want)
	}
}

// stubCubin extracts the kernel-less sm_52 cubin nvcc put in a program
// whose kernels live in a library (cuobjdump lists it; -sass shows no
// function in it).
func stubCubin(t *testing.T, prog string) []byte {
	t.Helper()
	raw, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	elf := []byte("\x7fELF")
	for i := bytes.Index(raw, Magic); i >= 0; {
		body := raw[i+headerSize:]
		h, err := parseEntry(body)
		if err == nil && h.flags&(flagLZ4|flagZSTD) == 0 && bytes.HasPrefix(body[h.hsize:], elf) {
			c := body[h.hsize : h.hsize+h.padded]
			if has, ok := cubinHasText(c); ok && !has {
				return c
			}
		}
		next := bytes.Index(raw[i+1:], Magic)
		if next < 0 {
			break
		}
		i += 1 + next
	}
	t.Fatal("no kernel-less cubin in " + prog)
	return nil
}
