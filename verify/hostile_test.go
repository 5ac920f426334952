package verify

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var amd64 = v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}

// hugeSegmentELF is the 184-byte x86-64 executable of issue 17's D3: one
// executable PT_LOAD segment claiming 2^62 bytes of a file that has 184.
func hugeSegmentELF() []byte {
	b := make([]byte, 184)
	le := binary.LittleEndian
	copy(b, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	le.PutUint16(b[16:], 2)        // ET_EXEC
	le.PutUint16(b[18:], 62)       // EM_X86_64
	le.PutUint32(b[20:], 1)        // EV_CURRENT
	le.PutUint64(b[24:], 0x4000b0) // e_entry
	le.PutUint64(b[32:], 64)       // e_phoff
	le.PutUint16(b[52:], 64)       // e_ehsize
	le.PutUint16(b[54:], 56)       // e_phentsize
	le.PutUint16(b[56:], 2)        // e_phnum
	ph := b[64:]
	le.PutUint32(ph, 1)             // PT_LOAD
	le.PutUint32(ph[4:], 5)         // R|X
	le.PutUint64(ph[16:], 0x400000) // p_vaddr
	le.PutUint64(ph[32:], 1<<62)    // p_filesz
	le.PutUint64(ph[40:], 1<<62)    // p_memsz
	le.PutUint64(ph[48:], 0x1000)   // p_align
	ph = b[120:]
	le.PutUint32(ph, 0x6474e551)                                 // PT_GNU_STACK
	copy(b[176:], []byte{0x31, 0xff, 0xb8, 0x3c, 0, 0, 0, 0x0f}) // xor edi,edi; mov eax,60; (truncated syscall)
	return b
}

// TestHostileHugeSegment (issue 17 D3): a segment of 2^62 bytes in a
// 184-byte file made the code analysis allocate it and panic; it is
// unverified, with the reason, and the run is not attempted on it.
func TestHostileHugeSegment(t *testing.T) {
	prog := writeTemp(t, "prog", string(hugeSegmentELF()))
	img := image(t, []string{"/prog"}, layer(t, entryTar{name: "prog", local: prog}))
	for _, run := range []bool{false, true} {
		res, err := Images(context.Background(), []Entry{{Descriptor: amd64, Image: img}}, WithRun(run), withLookPath(func(string) (string, error) { return "", os.ErrNotExist }))
		if err != nil {
			t.Fatalf("run=%v: %v", run, err)
		}
		r := res[0]
		if r.Verdict != Unverified || !strings.Contains(strings.Join(r.Reasons, " "), "spans bytes 0 to") {
			t.Errorf("run=%v: %s %q, want unverified naming the segment", run, r.Verdict, r.Reasons)
		}
	}
}

// TestHostileTruncatedELF: an ELF file cut anywhere is unverified or
// judged, never a crash or an error of the whole command.
func TestHostileTruncatedELF(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{4, 63, 64, 200, 4096, 70000, len(data) / 2, len(data) - 1} {
		prog := writeTemp(t, fmt.Sprint("prog", n), string(data[:n]))
		img := image(t, []string{"/prog"}, layer(t, entryTar{name: "prog", local: prog}))
		res, err := Images(context.Background(), []Entry{{Descriptor: amd64, Image: img}}, WithRun(false))
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if r := res[0]; r.Verdict == OK || len(r.Reasons) == 0 {
			t.Errorf("%d of %d bytes: %s %q, want a verdict with reasons", n, len(data), r.Verdict, r.Reasons)
		}
	}
}

// TestHostileExtractFails (issue 17 D8): the program could not be
// written (a full disk, a file size limit): the entry is unverified with
// the reason, the command goes on. RLIMIT_FSIZE makes the write fail as
// ENOSPC would, for real.
func TestHostileExtractFails(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	img := image(t, []string{"/prog"}, layer(t, entryTar{name: "prog", local: exe}))
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	signal.Ignore(syscall.SIGXFSZ)
	defer signal.Reset(syscall.SIGXFSZ)
	lim := old
	lim.Cur = 256 << 10
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	res, err := Images(context.Background(), []Entry{{Descriptor: amd64, Image: img}}, WithRun(false), WithTempDir(t.TempDir()))
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatalf("the command failed: %v", err)
	}
	if r := res[0]; r.Verdict != Unverified || !strings.Contains(strings.Join(r.Reasons, " "), "file too large") {
		t.Errorf("%s %q, want unverified saying the write failed", r.Verdict, r.Reasons)
	}
}

// TestHostileExtractLimit (issue 17 D8): the program counts against the
// extraction limit like any file; beyond it the entry is unverified.
func TestHostileExtractLimit(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	img := image(t, []string{"/prog"}, layer(t, entryTar{name: "prog", local: exe}))
	res, err := Images(context.Background(), []Entry{{Descriptor: amd64, Image: img}}, WithRun(false), WithExtractLimit(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Verdict != Unverified || !strings.Contains(strings.Join(r.Reasons, " "), "extraction limit") || r.Evidence.Extracted != 0 {
		t.Errorf("%s %q, %d bytes extracted; want unverified at the limit", r.Verdict, r.Reasons, r.Evidence.Extracted)
	}
}

// TestHostileWhiteouts (issue 17 D9): 40,000 whiteouts over 40,000
// files cost a lookup per path component (the walk was quadratic: 58 s),
// and layers apply as overlayfs does: a whiteout hides what is below,
// never its own layer's files.
func TestHostileWhiteouts(t *testing.T) {
	const n = 40000
	lower := tarLayer(t, func(tw *tar.Writer) {
		for i := range n {
			tarFile(t, tw, fmt.Sprintf("d%d/f%d", i%100, i), "x")
		}
		tarFile(t, tw, "keep/a", "x")
		tarFile(t, tw, "opq/old", "x")
	})
	upper := tarLayer(t, func(tw *tar.Writer) {
		for i := range n {
			tarFile(t, tw, fmt.Sprintf("d%d/.wh.f%d", i%100, i), "")
		}
		tarFile(t, tw, "opq/new", "x")
		tarFile(t, tw, "opq/.wh..wh..opq", "")
		tarFile(t, tw, "d7/.wh.f7", "")
		tarFile(t, tw, "d7/f7", "again") // same layer: stays
	})
	img, err := mutate.AppendLayers(image(t, nil), lower, upper)
	if err != nil {
		t.Fatal(err)
	}
	tr := newTree()
	if err := walkLayers(context.Background(), img, tr, nil); err != nil {
		t.Fatal(err)
	}
	if len(tr.files) != 3 || tr.files["/keep/a"] == nil || tr.files["/opq/new"] == nil || tr.files["/d7/f7"] == nil {
		var got []string
		for p := range tr.files {
			if len(got) < 10 {
				got = append(got, p)
			}
		}
		t.Errorf("%d files (%v), want /keep/a, /opq/new, /d7/f7", len(tr.files), got)
	}
	if entries := 2*n + 5; tr.probes > 4*entries {
		t.Errorf("%d shadow lookups for %d entries: not linear", tr.probes, entries)
	}
}

func tarLayer(t *testing.T, fill func(*tar.Writer)) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	fill(tw)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func tarFile(t *testing.T, tw *tar.Writer, name, content string) {
	t.Helper()
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
}

// TestHostileConfig (issue 17 D15): an image config of 5 MiB was read
// whole (1 GiB: 4.2 GiB RSS); beyond 4 MiB the entry is unverified
// without reading it.
func TestHostileConfig(t *testing.T) {
	img := image(t, []string{"/prog"})
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.Config.Env = append(cf.Config.Env, "JUNK="+strings.Repeat("x", 5<<20))
	img, err := mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Images(context.Background(), []Entry{{Descriptor: amd64, Image: img}}, WithRun(false))
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Verdict != Unverified || !strings.Contains(strings.Join(r.Reasons, " "), "image config") {
		t.Errorf("%s %q, want unverified for the config's size", r.Verdict, r.Reasons)
	}
}

// TestHostileConfigLies: a layout whose manifest gives its config a small
// size while the blob holds more is read no further than the bound.
func TestHostileConfigLies(t *testing.T) {
	img := image(t, []string{"/prog"})
	big := []byte(`{"architecture":"amd64","os":"linux","config":{"Env":["X=` + strings.Repeat("y", 5<<20) + `"]}}`)
	cl := &lyingConfig{Image: img, raw: big}
	if _, err := readConfig(cl); err == nil || !strings.Contains(err.Error(), "image config") {
		t.Errorf("readConfig = %v, want the bound", err)
	}
}

// lyingConfig serves raw as its config blob, under the manifest's small
// size and digest.
type lyingConfig struct {
	v1.Image
	raw []byte
}

func (l *lyingConfig) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	return static.NewLayer(l.raw, types.OCIConfigJSON), nil
}
