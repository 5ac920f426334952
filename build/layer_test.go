package build

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// TestLayerAsGGCR checks the streamed layer against go-containerregistry's
// own description of the same tar: its tarball layer (which compresses at
// the same level) must give the same digest, diff ID and size, and both
// readers must give back the bytes.
func TestLayerAsGGCR(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i * 7 % 251)
	}
	if err := os.WriteFile(filepath.Join(dir, "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "tool"), []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	epoch := time.Unix(1700000000, 0).UTC()
	layers := t.TempDir()
	l, err := newLayer(dir, "/opt/x", epoch, layers)
	if err != nil {
		t.Fatal(err)
	}
	var tarBytes bytes.Buffer
	if err := tarDir(&tarBytes, dir, "/opt/x", epoch); err != nil {
		t.Fatal(err)
	}
	want, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarBytes.Bytes())), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what      string
		got, want func() (string, error)
	}{
		{"digest", func() (string, error) { h, err := l.Digest(); return h.String(), err }, func() (string, error) { h, err := want.Digest(); return h.String(), err }},
		{"diff ID", func() (string, error) { h, err := l.DiffID(); return h.String(), err }, func() (string, error) { h, err := want.DiffID(); return h.String(), err }},
	} {
		g, err := c.got()
		if err != nil {
			t.Fatal(err)
		}
		w, err := c.want()
		if err != nil {
			t.Fatal(err)
		}
		if g != w {
			t.Errorf("%s %s, ggcr says %s", c.what, g, w)
		}
	}
	gs, _ := l.Size()
	ws, _ := want.Size()
	if gs != ws {
		t.Errorf("size %d, ggcr says %d", gs, ws)
	}
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(rc)
	if err != nil || rc.Close() != nil {
		t.Fatalf("uncompressed: %v", err)
	}
	if !bytes.Equal(back, tarBytes.Bytes()) {
		t.Errorf("uncompressed layer: %d bytes differ from the %d of the tar", len(back), tarBytes.Len())
	}
	files, _ := os.ReadDir(layers)
	if len(files) != 1 {
		t.Errorf("%d files in the layer directory, want 1", len(files))
	}
}
