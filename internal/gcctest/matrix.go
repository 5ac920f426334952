package gcctest

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Variant is one entry of Matrix: a static gcc build of the kernel loops and
// the labels it is published with.
type Variant struct {
	// Name says what it is.
	Name string
	// March and Args are the gcc -march and extra flags.
	March string
	Args  []string
	// Variant is the OCI platform variant; Annotations the descriptor's.
	Variant     string
	Annotations map[string]string
	// Lies tells whether the labels claim less than the code needs.
	Lies bool
}

// MatrixBuilds is the index of issue 9: static -O3 builds of the kernel
// loops, some honestly labelled, some not.
var MatrixBuilds = []Variant{
	{Name: "generic", March: "x86-64"},
	{Name: "v3 as amd64/v3", March: "x86-64-v3", Variant: "v3"},
	{Name: "v4 labelled haswell", March: "x86-64-v4", Annotations: map[string]string{"dev.tailor.cpu.target": "haswell"}, Lies: true},
	{Name: "v3 labelled nehalem", March: "x86-64-v3", Annotations: map[string]string{"dev.tailor.cpu.target": "nehalem"}, Lies: true},
	{Name: "v4 labelled skylake_avx512", March: "x86-64-v4", Annotations: map[string]string{"dev.tailor.cpu.target": "skylake_avx512"}},
	// A static program's ISA level note is checked by no loader: this build
	// runs on any x86-64 (qemu -cpu Conroe says so), so its label is true.
	{Name: "plain amd64 linked -z x86-64-v3", March: "x86-64", Args: []string{"-Wl,-z,x86-64-v3"}},
}

// Matrix builds MatrixBuilds into an image index: each image holds the
// program at /forces, entrypoint /forces, command "200 1" (a short run).
func Matrix(t testing.TB) v1.ImageIndex {
	t.Helper()
	src := Kernels(t)
	idx := v1.ImageIndex(empty.Index)
	idx = mutate.IndexMediaType(idx, types.OCIImageIndex)
	for _, b := range MatrixBuilds {
		bin := Build(t, src, "forces", b.March, append([]string{"-static"}, b.Args...)...)
		img := ProgramImage(t, bin, "/forces", "200", "1")
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add: img,
			Descriptor: v1.Descriptor{
				Platform:    &v1.Platform{OS: "linux", Architecture: "amd64", Variant: b.Variant},
				Annotations: b.Annotations,
			},
		})
	}
	return idx
}

// ProgramImage is a linux/amd64 image whose one layer holds the file at
// bin as path (mode 0755), with entrypoint path and command cmd.
func ProgramImage(t testing.TB, bin, path string, cmd ...string) v1.Image {
	t.Helper()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: path[1:], Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Entrypoint = []string{path}
	cf.Config.Cmd = cmd
	cf.Config.Env = []string{"PATH=/usr/bin:/bin"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
