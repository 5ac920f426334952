package fatbin

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tailor-dev/tailor/internal/gcctest"
)

var update = flag.Bool("update", false, "rewrite testdata/*.fatbin from the fixtures")

// code is one code object of a fixture: kind, SM version, payload size.
type code struct {
	kind uint16
	sm   int
	size int
}

// container lays out a fat binary container as nvcc writes one: the
// 16-byte header, then per entry its header (64 bytes; 112 for an sm_100+
// cubin, 80 for an sm_120+ PTX) and its payload padded to 8 bytes.
func build(codes ...code) []byte {
	le := binary.LittleEndian
	var body []byte
	for _, c := range codes {
		hsize := 64
		switch {
		case c.kind != KindPTX && c.sm >= 100:
			hsize = 112
		case c.kind == KindPTX && c.sm >= 120:
			hsize = 80
		}
		padded := (c.size + 7) &^ 7
		h := make([]byte, hsize)
		le.PutUint16(h, c.kind)
		le.PutUint16(h[2:], 0x0101)
		le.PutUint32(h[4:], uint32(hsize))
		le.PutUint64(h[8:], uint64(padded))
		le.PutUint32(h[16:], uint32(c.size))
		le.PutUint32(h[24:], 0)
		le.PutUint32(h[28:], uint32(c.sm))
		le.PutUint64(h[40:], 0x8000) // compressed
		payload := bytes.Repeat([]byte{0x28, 0xb5, 0x2f, 0xfd}, padded/4+1)[:padded]
		body = append(append(body, h...), payload...)
	}
	out := append([]byte(nil), Magic...)
	out = le.AppendUint16(out, 1)
	out = le.AppendUint16(out, headerSize)
	out = le.AppendUint64(out, uint64(len(body)))
	return append(out, body...)
}

// fixtures are the recorded containers of testdata (go test -update
// rewrites them): what nvcc -gencode lists give.
var fixtures = map[string][]byte{
	// -gencode arch=compute_80,code=[sm_80,compute_80] -gencode arch=compute_90,code=sm_90
	"sm80-sm90-ptx80.fatbin": build(code{KindELF, 80, 5000}, code{KindPTX, 80, 3001}, code{KindELF, 90, 4998}),
	// -arch=sm_90 only
	"sm90.fatbin": build(code{KindELF, 90, 1234}),
	// Blackwell: 112-byte cubin headers, an 80-byte PTX header
	"sm100-sm120-ptx120.fatbin": build(code{KindELF, 100, 777}, code{KindELF, 120, 64}, code{KindPTX, 120, 100}),
}

func TestFixtures(t *testing.T) {
	want := map[string][]string{
		"sm80-sm90-ptx80.fatbin":    {"compute_80", "sm_80", "sm_90"},
		"sm90.fatbin":               {"sm_90"},
		"sm100-sm120-ptx120.fatbin": {"compute_120", "sm_100", "sm_120"},
	}
	for name, data := range fixtures {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		recorded, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(recorded, data) {
			t.Errorf("%s differs from its fixture (go test -update rewrites it)", name)
		}
		es, err := Parse(recorded)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := Archs(es); !slices.Equal(got, want[name]) {
			t.Errorf("Parse(%s) = %v, want %v", name, got, want[name])
		}
		// As a .fatbin file, read one byte at a time.
		r, err := Read(iotest.OneByteReader(bytes.NewReader(slices.Concat(recorded, recorded))))
		if err != nil || r.Form != FormFatbin || !slices.Equal(Archs(r.Entries), want[name]) {
			t.Errorf("Read(%s twice) = %+v, %v", name, r, err)
		}
	}
}

// TestScanSkipsFalseMagic: a magic number that starts no container (in
// other data, or with a broken entry) is skipped, and the real container
// after it found.
func TestScanSkipsFalseMagic(t *testing.T) {
	good := fixtures["sm90.fatbin"]
	broken := slices.Clone(good)
	binary.LittleEndian.PutUint16(broken[16:], 0x77) // entry kind
	cases := map[string][]byte{
		"magic alone":      slices.Concat(Magic, []byte("not a header at all"), good),
		"bad version":      slices.Concat(Magic, []byte{9, 0, 16, 0, 1, 0, 0, 0, 0, 0, 0, 0}, good),
		"broken entry":     slices.Concat(broken, good),
		"magic at the end": slices.Concat(good, Magic[:3]),
	}
	for name, data := range cases {
		es, err := scanAll(data)
		if err != nil || !slices.Equal(Archs(es), []string{"sm_90"}) {
			t.Errorf("%s: scan = %v, %v; want [sm_90]", name, Archs(es), err)
		}
	}
	if _, err := Parse(slices.Concat(broken)); err == nil {
		t.Error("Parse(broken entry): want an error")
	}
	if _, err := Parse(good[:len(good)-10]); err == nil {
		t.Error("Parse(truncated): want an error")
	}
}

// TestScanELF: a host executable with the fixture in its .nv_fatbin
// section, as nvcc links one, built with gcc.
func TestScanELF(t *testing.T) {
	data := fixtures["sm80-sm90-ptx80.fatbin"]
	var src strings.Builder
	src.WriteString("__attribute__((section(\".nv_fatbin\"), used, aligned(8))) static const unsigned char fatbin[] = {")
	for i, b := range data {
		if i > 0 {
			src.WriteString(",")
		}
		fmt.Fprintf(&src, "%d", b)
	}
	src.WriteString("};\nint main(void) { return 0; }\n")
	bin := gcctest.Build(t, []byte(src.String()), "cuda-app", "x86-64")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Section(".nv_fatbin") == nil {
		t.Fatal("no .nv_fatbin section in the test program")
	}
	raw, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Read(bytes.NewReader(raw))
	if err != nil || r.Form != FormELF || r.Unsectioned || !slices.Equal(Archs(r.Entries), []string{"compute_80", "sm_80", "sm_90"}) {
		t.Errorf("Read(ELF with .nv_fatbin) = %+v, %v", r, err)
	}
}

// scanAll reads every container in data, wherever it is (a stream
// without section headers).
func scanAll(data []byte) ([]Entry, error) {
	br := bufio.NewReaderSize(bytes.NewReader(data), window)
	r, err := scanStream(br, &captureReader{}, nil)
	return r.Entries, err
}

// FuzzParse: Parse and a stream scan agree on well-formed input, never
// panic, and the scan never errs on a bytes.Reader; Read neither.
func FuzzParse(f *testing.F) {
	for _, d := range fixtures {
		f.Add(d)
	}
	f.Add(slices.Concat(Magic, []byte{1, 0, 16, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}))
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add([]byte("//\n.version 7.8\n.target sm_90a\n.address_size 64\n.visible .entry k()\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pes, perr := Parse(data)
		ses, serr := scanAll(data)
		if serr != nil {
			t.Fatalf("scan: %v", serr)
		}
		if perr == nil && bytes.HasPrefix(data, Magic) && !slices.Equal(pes, ses) {
			t.Fatalf("Parse = %v, scan = %v", pes, ses)
		}
		if _, err := Read(bytes.NewReader(data)); err != nil {
			t.Fatalf("Read: %v", err)
		}
	})
}

func TestIsPTX(t *testing.T) {
	for in, want := range map[string]bool{
		"//\n// Generated by NVIDIA NVVM Compiler\n//\n\n.version 7.8\n.target sm_75\n.address_size 64\n": true,
		".version 8.0\n.target sm_90a\n":                       true,
		"  \n.version 7.8\n.target sm_80\n":                    true,
		"ptx = \"\"\"\n.version 8.0\n.target sm_90a\n\"\"\"\n": false,
		"# docs\n.version 7.8\n.target sm_80\n":                false,
		".version 7.8\n":                                       false,
		"":                                                     false,
	} {
		if got := isPTX([]byte(in)); got != want {
			t.Errorf("isPTX(%q) = %v, want %v", in, got, want)
		}
	}
}
