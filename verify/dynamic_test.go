package verify

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/tailor-dev/tailor/internal/gcctest"
	"github.com/tailor-dev/tailor/internal/tooltest"
)

// entryTar is one tar entry of a test layer: a file (from a local path),
// a symbolic link, or a whiteout.
type entryTar struct {
	name, local, link string
}

func layer(t *testing.T, entries ...entryTar) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o755}
		var data []byte
		switch {
		case e.link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.link
		case e.local != "":
			var err error
			if data, err = os.ReadFile(e.local); err != nil {
				t.Fatal(err)
			}
			h.Typeflag, h.Size = tar.TypeReg, int64(len(data))
		default:
			h.Typeflag = tar.TypeReg // empty file (a whiteout)
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func image(t *testing.T, argv []string, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Entrypoint = argv
	cf.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// debianBase is a layer with this machine's glibc in a Debian merged-/usr
// layout: /lib a link to usr/lib, /lib64/ld-linux-x86-64.so.2 an absolute
// link into it.
func debianBase(t *testing.T) v1.Layer {
	const dir = "/lib/x86_64-linux-gnu/"
	for _, f := range []string{"ld-linux-x86-64.so.2", "libc.so.6", "libm.so.6"} {
		if _, err := os.Stat(dir + f); err != nil {
			t.Skipf("no %s%s on this machine", dir, f)
		}
	}
	return layer(t,
		entryTar{name: "lib", link: "usr/lib"},
		entryTar{name: "lib64/ld-linux-x86-64.so.2", link: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
		entryTar{name: "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", local: dir + "ld-linux-x86-64.so.2"},
		entryTar{name: "usr/lib/x86_64-linux-gnu/libc.so.6", local: dir + "libc.so.6"},
		entryTar{name: "usr/lib/x86_64-linux-gnu/libm.so.6", local: dir + "libm.so.6"},
	)
}

// TestDynamicLibraryNote: a dynamically linked program whose library was
// linked with -z x86-64-v3 (as a glibc built for x86-64-v3 is) is
// mislabeled as plain amd64: the library's note says so, and ld.so refuses
// to start it under qemu64, the model of the declared generic x86-64. The
// same program with an honest library is ok, and runs (qemu -L with the
// image's own glibc).
func TestDynamicLibraryNote(t *testing.T) {
	tooltest.Path(t, "qemu-x86_64")
	base := debianBase(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kern.c"), gcctest.Source(t, "kern.c"), 0o644); err != nil {
		t.Fatal(err)
	}
	gcctest.Run(t, dir, "-O3", "-shared", "-fPIC", "-o", "libkern.so", "kern.c")
	gcctest.Run(t, dir, "-O3", "-shared", "-fPIC", "-Wl,-z,x86-64-v3", "-o", "libkern-v3.so", "kern.c")
	gcctest.Run(t, dir, "-O3", "-DMAIN", "-o", "run", "kern.c", "-L.", "-lkern", "-lm")
	app := func(lib string) v1.Layer {
		return layer(t,
			entryTar{name: "usr/bin/run", local: filepath.Join(dir, "run")},
			entryTar{name: "usr/lib/x86_64-linux-gnu/libkern.so", local: filepath.Join(dir, lib)},
		)
	}
	entries := []Entry{
		{Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}, Image: image(t, []string{"run", "100"}, base, app("libkern.so"))},
		{Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}, Image: image(t, []string{"run", "100"}, base, app("libkern-v3.so"))},
	}
	res, err := Images(context.Background(), entries)
	if err != nil {
		t.Fatal(err)
	}
	ok, bad := res[0], res[1]
	if ok.Verdict != OK || ok.Evidence.Run == nil || ok.Evidence.Run.Outcome != "exited" || ok.Evidence.Program != "/usr/bin/run" {
		t.Errorf("honest library: %s %v, run %+v, program %q", ok.Verdict, ok.Reasons, ok.Evidence.Run, ok.Evidence.Program)
	}
	roles := map[string]string{}
	for _, n := range ok.Evidence.Notes {
		roles[n.Path] = n.Role
	}
	if roles["/usr/lib/x86_64-linux-gnu/libc.so.6"] != "library" || roles["/usr/bin/run"] != "program" {
		t.Errorf("notes counted: %+v; want the program's and glibc's", ok.Evidence.Notes)
	}
	reasons := strings.Join(bad.Reasons, "\n")
	if bad.Verdict != Mislabeled || !strings.Contains(reasons, "libkern.so (library)") || !strings.Contains(reasons, "x86-64-v3") {
		t.Errorf("v3 library: %s\n%s", bad.Verdict, reasons)
	}
	if bad.Evidence.Run == nil || bad.Evidence.Run.Outcome != "refused" || !strings.Contains(bad.Evidence.Run.Stderr, "CPU ISA level is lower than required") {
		t.Errorf("v3 library run: %+v, want ld.so's refusal", bad.Evidence.Run)
	}
	if bad.Needs != "cpu=x86_64_v3" {
		t.Errorf("needs %q, want cpu=x86_64_v3", bad.Needs)
	}
}
