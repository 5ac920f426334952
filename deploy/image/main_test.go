package main

import (
	"archive/tar"
	"context"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/tailor-dev/tailor/internal/longtest"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/remote"
)

// testPlatforms are the platforms the image tests build: amd64 and arm64
// where long tests run (each architecture compiles the standard library
// again, -trimpath, minutes on a cold cache), else this machine's alone.
func testPlatforms() []string {
	if longtest.On() {
		return []string{"linux/amd64", "linux/arm64"}
	}
	return []string{"linux/" + runtime.GOARCH}
}

// TestImage builds the test program's image for testPlatforms into an
// OCI layout and reads it back: one image per platform, each with a static
// binary of its architecture as entrypoint, the CA bundle, and the same
// digests when built twice.
func TestImage(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := options{dest: "oci:" + filepath.Join(dir, "layout"), pkg: "./testdata/hello", caBundle: ca, platforms: testPlatforms()}
	d1, err := run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(filepath.Join(dir, "layout"))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != len(o.platforms) {
		t.Fatalf("%d manifests, want %d", len(im.Manifests), len(o.platforms))
	}
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Architecture != d.Platform.Architecture || cf.OS != "linux" || len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != binDir+"hello" {
			t.Errorf("%s: config %s/%s entrypoint %v", d.Platform.Architecture, cf.OS, cf.Architecture, cf.Config.Entrypoint)
		}
		files := layerFiles(t, img)
		bin := filepath.Join(dir, d.Platform.Architecture)
		if err := os.WriteFile(bin, files[binDir[1:]+"hello"], 0o755); err != nil {
			t.Fatal(err)
		}
		ef, err := elf.Open(bin)
		if err != nil {
			t.Fatalf("%s: %v", d.Platform.Architecture, err)
		}
		if ef.Machine != machines[d.Platform.Architecture] {
			t.Errorf("%s image holds a %v binary", d.Platform.Architecture, ef.Machine)
		}
		if ef.Section(".interp") != nil {
			t.Errorf("%s binary is dynamically linked", d.Platform.Architecture)
		}
		ef.Close()
		if string(files[ca[1:]]) != "-----BEGIN CERTIFICATE-----\n" {
			t.Errorf("%s: CA bundle missing", d.Platform.Architecture)
		}
	}
	o.dest = "oci:" + filepath.Join(dir, "again")
	d2, err := run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 {
		t.Errorf("two builds differ: %s, %s", d1, d2)
	}
}

// layerFiles reads the files of img's single layer.
func layerFiles(t *testing.T, img v1.Image) map[string][]byte {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers: %d, %v; want one", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.IsZero() && h.ModTime.Unix() != 0 {
			t.Errorf("%s has a timestamp %v", h.Name, h.ModTime)
		}
		if out[h.Name], err = io.ReadAll(tr); err != nil {
			t.Fatal(err)
		}
	}
}

// TestImagePush pushes the image to the distribution registry through
// tailor's registry client and reads the index back.
func TestImagePush(t *testing.T) {
	host := registrytest.New(t, t.TempDir())
	o := options{push: host + "/tailor:test", pkg: "./testdata/hello", caBundle: "none", platforms: testPlatforms()}
	d, err := run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	c, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Get(context.Background(), host+"/tailor:test")
	if err != nil {
		t.Fatal(err)
	}
	im, err := m.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	last := o.platforms[len(o.platforms)-1]
	if m.Digest != d || len(im.Manifests) != len(o.platforms) || "linux/"+im.Manifests[len(im.Manifests)-1].Platform.Architecture != last {
		t.Errorf("pushed %s with %d manifests, want %s with %v", m.Digest, len(im.Manifests), d, o.platforms)
	}
	if _, err := run(context.Background(), options{pkg: "./testdata/hello", caBundle: "none", platforms: []string{"linux/amd64"}}); err == nil {
		t.Error("neither --push nor --dest: no error")
	}
	if _, err := run(context.Background(), options{dest: "oci:" + t.TempDir(), pkg: "./testdata/hello", caBundle: "none", platforms: []string{"amd64"}}); err == nil {
		t.Error("platform amd64 without os: no error")
	}
}

// TestImageDynamic: a CGO_ENABLED=0 binary that loads libraries at run
// time (purego, as tailor loads NVML) is linked dynamically; the image
// carries the loader and glibc for each architecture, and the amd64 (or
// this machine's) image runs it, dlopen included, in its own root.
func TestImageDynamic(t *testing.T) {
	dir := t.TempDir()
	o := options{dest: "oci:" + filepath.Join(dir, "layout"), pkg: "./testdata/dyn", caBundle: "none", platforms: testPlatforms()}
	if _, err := run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(filepath.Join(dir, "layout"))
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := p.ImageIndex()
	im, _ := idx.IndexManifest()
	loaders := map[string]string{"amd64": "lib64/ld-linux-x86-64.so.2", "arm64": "lib/ld-linux-aarch64.so.1"}
	for _, d := range im.Manifests {
		arch := d.Platform.Architecture
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		files := layerFiles(t, img)
		triplet := debianTriplet[arch]
		for _, want := range []string{loaders[arch], "lib/" + triplet + "/libc.so.6", "lib/" + triplet + "/libm.so.6", "usr/local/bin/dyn"} {
			if len(files[want]) == 0 {
				t.Errorf("%s image lacks %s", arch, want)
			}
		}
		if arch != runtime.GOARCH {
			continue
		}
		if os.Geteuid() != 0 {
			t.Log("not root: the image is not run in a chroot")
			continue
		}
		root := filepath.Join(dir, "root-"+arch)
		for name, data := range files {
			path := filepath.Join(root, name)
			if strings.HasSuffix(name, "/") {
				continue
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		out, err := exec.Command("chroot", root, "/usr/local/bin/dyn").CombinedOutput()
		if err != nil || string(out) != "dyn: sqrt(16) = 4\n" {
			t.Errorf("running the image's binary in its root: %v\n%s", err, out)
		}
	}
}
