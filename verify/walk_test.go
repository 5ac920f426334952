package verify

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/tailor-dev/tailor/internal/gcctest"
	"github.com/tailor-dev/tailor/remote"
)

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTreeLayers: later layers replace and delete (whiteouts, opaque
// directories) what earlier ones put; links resolve as in the image.
func TestTreeLayers(t *testing.T) {
	a := writeTemp(t, "a", "#!/bin/sh\necho a\n")
	b := writeTemp(t, "b", "#!/usr/bin/env python3 -u\nprint(1)\n")
	img := image(t, []string{"/entry"},
		layer(t,
			entryTar{name: "usr/bin/tool", local: a},
			entryTar{name: "opt/x/keep", local: a},
			entryTar{name: "old/gone", local: a},
			entryTar{name: "bin", link: "usr/bin"},
			entryTar{name: "usr/bin/rel", link: "../bin/tool"},
			entryTar{name: "entry", link: "/bin/rel"},
		),
		layer(t,
			entryTar{name: ".wh.old"},
			entryTar{name: "opt/x/.wh..wh..opq"},
			entryTar{name: "opt/x/new", local: b},
			entryTar{name: "usr/bin/tool", local: b},
		),
	)
	tr := newTree()
	if err := walkLayers(context.Background(), img, tr, nil); err != nil {
		t.Fatal(err)
	}
	var files []string
	for p := range tr.files {
		files = append(files, p)
	}
	slices.Sort(files)
	if want := []string{"/opt/x/new", "/usr/bin/tool"}; !slices.Equal(files, want) {
		t.Errorf("files = %v, want %v", files, want)
	}
	p, f, ok := tr.resolve("/entry")
	if !ok || p != "/usr/bin/tool" || !strings.HasPrefix(string(f.head), "#!/usr/bin/env python3") {
		t.Errorf("resolve(/entry) = %q, %v, %v", p, f, ok)
	}
	if _, _, ok := tr.resolve("/old/gone"); ok {
		t.Error("a whited-out file resolves")
	}
	if tr.layers != 2 || tr.compressed == 0 || tr.uncompressed == 0 {
		t.Errorf("stats: %d layers, %d/%d bytes", tr.layers, tr.compressed, tr.uncompressed)
	}
}

// TestFindProgram: PATH lookup, #! scripts (through env) and their
// interpreter, and the errors that say what is missing.
func TestFindProgram(t *testing.T) {
	bin := gcctest.Build(t, gcctest.Source(t, "dispatch.c"), "py", "x86-64", "-static")
	script := writeTemp(t, "s", "#!/usr/bin/env python3 -u\nprint(1)\n")
	notScript := writeTemp(t, "n", "hello\n")
	img := image(t, nil, layer(t,
		entryTar{name: "usr/bin/python3", local: bin},
		entryTar{name: "usr/bin/env", local: bin},
		entryTar{name: "app/main.py", local: script},
		entryTar{name: "app/readme", local: notScript},
	))
	tr := newTree()
	if err := walkLayers(context.Background(), img, tr, nil); err != nil {
		t.Fatal(err)
	}
	p, err := tr.findProgram([]string{"/app/main.py", "x"}, defaultPath, "/")
	if err != nil {
		t.Fatal(err)
	}
	if p.path != "/usr/bin/python3" || !slices.Equal(p.argv, []string{"python3", "-u", "/app/main.py", "x"}) {
		t.Errorf("program %q argv %q", p.path, p.argv)
	}
	if p, err := tr.findProgram([]string{"python3"}, "/nowhere:/usr/bin", "/"); err != nil || p.path != "/usr/bin/python3" {
		t.Errorf("PATH lookup: %v, %v", p, err)
	}
	if p, err := tr.findProgram([]string{"main.py"}, "", "/app"); err == nil {
		t.Errorf("main.py without a slash found off PATH: %+v", p)
	}
	if p, err := tr.findProgram([]string{"./main.py"}, defaultPath, "/app"); err != nil || p.path != "/usr/bin/python3" {
		t.Errorf("./main.py in workdir /app: %v, %v", p, err)
	}
	for argv, want := range map[string]string{"": "no entrypoint", "/app/readme": "neither an ELF program nor a #! script", "/nope": "not in the image"} {
		var args []string
		if argv != "" {
			args = []string{argv}
		}
		if _, err := tr.findProgram(args, defaultPath, "/"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("findProgram(%q) = %v, want %q", argv, err, want)
		}
	}
}

// TestUnverified: an entry with nothing to check says why.
func TestUnverified(t *testing.T) {
	notes := writeTemp(t, "n", "just data\n")
	img := image(t, []string{"/data"}, layer(t, entryTar{name: "data", local: notes}))
	res, err := Images(context.Background(), []Entry{{Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}, Image: img}})
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Verdict != Unverified || len(r.Reasons) == 0 || !strings.Contains(r.Reasons[0], "neither an ELF program") {
		t.Errorf("verdict %s, reasons %v", r.Verdict, r.Reasons)
	}
	bad := Entry{Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}, Annotations: map[string]string{"dev.tailor.cpu.target": "pentium9000"}}, Image: img}
	res, err = Images(context.Background(), []Entry{bad})
	if err != nil || res[0].Verdict != Unverified || !strings.Contains(res[0].Reasons[0], "pentium9000") {
		t.Errorf("unknown target: %+v, %v", res[0], err)
	}
}

// TestCorruptLayer: a layer whose bytes do not match its digest is an
// error naming the layer, never a verdict.
func TestCorruptLayer(t *testing.T) {
	data := writeTemp(t, "d", strings.Repeat("tailor ", 1000))
	img := image(t, []string{"/d"}, layer(t, entryTar{name: "d", local: data}))
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{remote.AnnotationRefName: "1"})); err != nil {
		t.Fatal(err)
	}
	ls, _ := img.Layers()
	d, _ := ls[0].Digest()
	blob := filepath.Join(dir, "blobs", "sha256", d.Hex)
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	// Same length, different bytes after the gzip header: still gzip, but
	// not the layer whose digest the manifest names.
	b[len(b)-6] ^= 0xff
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Reference(context.Background(), c, "oci:"+dir+":1", WithRun(false)); err == nil || !strings.Contains(err.Error(), "layer 0") {
		t.Errorf("corrupt layer: err = %v, want an error naming layer 0", err)
	}
}
