package build

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// newLayer packs the files of dir under prefix as a reproducible layer:
// entries in lexical order, every time at epoch, owner root (uid and gid
// 0, no names), modes normalised (directories 0755, files 0755 when their
// owner may execute them and 0644 otherwise) so that neither the build
// machine's clock nor its umask changes a digest.
//
// The layer streams to a gzip file in layers (gzip level 1, as ggcr
// compresses a tarball layer), its digest and diff ID hashed on the way:
// whatever the size of the files, the build holds only the copy buffers
// in memory, compresses once and never reads the layer back to describe it.
func newLayer(dir, prefix string, epoch time.Time, layers string) (v1.Layer, error) {
	f, err := os.CreateTemp(layers, "layer-*.tar.gz")
	if err != nil {
		return nil, fmt.Errorf("packing %s: %w", dir, err)
	}
	l, err := writeLayer(f, dir, prefix, epoch)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("packing %s: %w", dir, cerr)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return nil, err
	}
	return l, nil
}

// writeLayer writes dir's layer to f and describes it.
func writeLayer(f *os.File, dir, prefix string, epoch time.Time) (*fileLayer, error) {
	digest, diffID := sha256.New(), sha256.New()
	compressed := &countWriter{w: io.MultiWriter(f, digest)}
	bw := bufio.NewWriterSize(compressed, 1<<16)
	gz, err := gzip.NewWriterLevel(bw, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	if err := tarDir(io.MultiWriter(gz, diffID), dir, prefix, epoch); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, fmt.Errorf("packing %s: %w", dir, err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("packing %s: %w", dir, err)
	}
	return &fileLayer{
		path:   f.Name(),
		digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(digest.Sum(nil))},
		diffID: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(diffID.Sum(nil))},
		size:   compressed.n,
	}, nil
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// fileLayer is a layer packed to a gzip file by newLayer, described by
// what was hashed while it was written.
type fileLayer struct {
	path           string
	digest, diffID v1.Hash
	size           int64
}

var _ v1.Layer = (*fileLayer)(nil)

// Digest is the sha256 of the compressed layer.
func (l *fileLayer) Digest() (v1.Hash, error) { return l.digest, nil }

// DiffID is the sha256 of the uncompressed tar.
func (l *fileLayer) DiffID() (v1.Hash, error) { return l.diffID, nil }

// Size is the size of the compressed layer.
func (l *fileLayer) Size() (int64, error) { return l.size, nil }

// MediaType is an OCI gzip layer's.
func (l *fileLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }

// Compressed opens the file.
func (l *fileLayer) Compressed() (io.ReadCloser, error) { return os.Open(l.path) }

// Uncompressed opens the file through gunzip.
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("layer %s: %w", l.digest, err)
	}
	return &gunzipFile{Reader: zr, f: f}, nil
}

// gunzipFile closes the gzip reader and its file.
type gunzipFile struct {
	*gzip.Reader
	f *os.File
}

func (g *gunzipFile) Close() error { return errors.Join(g.Reader.Close(), g.f.Close()) }

// tarDir writes dir's files as a tar stream to w.
func tarDir(w io.Writer, dir, prefix string, epoch time.Time) error {
	tw := tar.NewWriter(w)
	prefix = strings.Trim(path.Clean("/"+prefix), "/")
	if prefix != "" {
		parts := strings.Split(prefix, "/")
		for i := range parts {
			h := &tar.Header{Name: strings.Join(parts[:i+1], "/") + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
		}
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		rel, _ := filepath.Rel(dir, p)
		return addToTar(tw, p, path.Join(prefix, filepath.ToSlash(rel)), d, epoch)
	})
	if err != nil {
		return fmt.Errorf("packing %s: %w", dir, err)
	}
	return tw.Close()
}

func addToTar(tw *tar.Writer, p, name string, d fs.DirEntry, epoch time.Time) error {
	info, err := d.Info()
	if err != nil {
		return err
	}
	h := &tar.Header{Name: name, Mode: 0o644, ModTime: epoch, Format: tar.FormatPAX}
	switch {
	case d.IsDir():
		h.Typeflag, h.Name, h.Mode = tar.TypeDir, name+"/", 0o755
		return tw.WriteHeader(h)
	case info.Mode()&fs.ModeSymlink != 0:
		link, err := os.Readlink(p)
		if err != nil {
			return err
		}
		h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, link, 0o777
		return tw.WriteHeader(h)
	case info.Mode().IsRegular():
		if info.Mode()&0o100 != 0 {
			h.Mode = 0o755
		}
		h.Typeflag, h.Size = tar.TypeReg, info.Size()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	}
	return nil
}

// typedLayer is a layer under another media type (a Docker base image's
// layers are Docker layers; the blob is the same).
type typedLayer struct {
	v1.Layer
	mt types.MediaType
}

func (l typedLayer) MediaType() (types.MediaType, error) { return l.mt, nil }
