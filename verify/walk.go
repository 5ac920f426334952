package verify

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/verify/elfnote"
	"github.com/tailor-dev/tailor/verify/fatbin"
)

// file is what the walk learned of one regular file of the image.
type file struct {
	size int64
	elf  *elfnote.Info // nil: not ELF
	cuda []fatbin.Entry
	// cudaForm is the kind of GPU code file (fatbin.FormELF...), set also
	// when it holds only code the runtime does not load.
	cudaForm string
	// local is where the file was extracted, "" when it was not.
	local string
	// head is the start of a non-ELF file (a script's #! line).
	head []byte
}

// tree is the image's file system as the walk saw it, layers applied in
// order (whiteouts honoured): regular files, and symbolic and hard links.
type tree struct {
	files map[string]*file
	links map[string]string // symlink path -> target as written
	hard  map[string]string // hard link path -> the file it names
	// stats of the walk
	compressed, uncompressed int64
	layers                   int
	extracted                int64
}

func newTree() *tree {
	return &tree{files: map[string]*file{}, links: map[string]string{}, hard: map[string]string{}}
}

// wants tells the walk which files to extract to disk (for runs and code
// analysis), within a budget of bytes.
type wants struct {
	dir    string
	paths  map[string]bool
	libs   bool // shared libraries of the usual directories, for runs
	budget int64
}

// libDirs are the directories ld.so searches by default on the
// distributions tailor meets (Debian multiarch, Fedora/RHEL lib64, Alpine).
var libDirs = []string{"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/local/lib"}

func (w *wants) want(p string, size int64, isELF bool) bool {
	if w == nil || w.dir == "" {
		return false
	}
	if w.paths[p] {
		return true
	}
	if !w.libs || !isELF || w.budget < size {
		return false
	}
	dir := path.Dir(p)
	for _, d := range libDirs {
		if dir == d {
			return strings.Contains(path.Base(p), ".so") || strings.HasPrefix(path.Base(p), "ld-")
		}
	}
	return p == "/etc/ld.so.cache"
}

// headLen is how much of each file is looked at before streaming the rest:
// an ELF file's headers and notes, or a script's first line.
const headLen = 64 << 10

// walkLayers streams the layers of img in order, base first, into t.
func walkLayers(ctx context.Context, img v1.Image, t *tree, w *wants) error {
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("listing layers: %w", err)
	}
	for i, l := range layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := walkLayer(ctx, l, t, w); err != nil {
			d, _ := l.Digest()
			return fmt.Errorf("layer %d (%s): %w", i, d, err)
		}
		t.layers++
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

func walkLayer(ctx context.Context, l v1.Layer, t *tree, w *wants) error {
	size, _ := l.Size()
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	t.compressed += size
	counted := countingReader{r: rc, n: &t.uncompressed}
	tr := tar.NewReader(counted)
	br := bufio.NewReaderSize(nil, headLen)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// Read to the end, so the layer's digest is checked (a
			// corrupted layer is an error, not a verdict).
			if _, err := io.Copy(io.Discard, counted); err != nil {
				return fmt.Errorf("reading layer: %w", err)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading tar: %w", err)
		}
		p := clean(h.Name)
		dir, base := path.Split(p)
		if strings.HasPrefix(base, ".wh.") {
			t.whiteout(path.Clean(dir), strings.TrimPrefix(base, ".wh."))
			continue
		}
		t.remove(p)
		switch h.Typeflag {
		case tar.TypeSymlink:
			t.links[p] = h.Linkname
		case tar.TypeLink:
			t.hard[p] = clean(h.Linkname)
		case tar.TypeReg:
			br.Reset(tr)
			f, err := readFile(br, p, h.Size, w)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if f.local != "" {
				t.extracted += f.size
				w.budget -= f.size
			}
			t.files[p] = f
		}
	}
}

// readFile reads one file of a layer: its head (ELF notes), the fat
// binaries of an ELF file, and a copy on disk when w wants it.
func readFile(br *bufio.Reader, p string, size int64, w *wants) (*file, error) {
	f := &file{size: size}
	head, _ := br.Peek(int(min(size, headLen)))
	isELF := bytes.HasPrefix(head, elfnote.Magic)
	if isELF {
		if info, err := elfnote.Parse(head); err == nil {
			f.elf = info
		}
	} else {
		f.head = bytes.Clone(head[:min(len(head), 256)])
	}
	var r io.Reader = br
	if w.want(p, size, isELF) {
		out, err := extractTo(w.dir, p)
		if err != nil {
			return nil, err
		}
		defer out.Close()
		f.local = out.Name()
		r = io.TeeReader(br, out)
	}
	if !fatbin.Sniff(head) {
		_, err := io.Copy(io.Discard, r)
		return f, err
	}
	code, err := fatbin.Read(r)
	if err != nil {
		return nil, err
	}
	f.cuda, f.cudaForm = code.Entries, code.Form
	return f, nil
}

// extractTo creates the file for image path p under dir.
func extractTo(dir, p string) (*os.File, error) {
	local := filepath.Join(dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(local, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
}

// clean makes a tar name an absolute image path.
func clean(name string) string { return path.Clean("/" + name) }

// remove forgets what a later layer replaces at p.
func (t *tree) remove(p string) {
	delete(t.files, p)
	delete(t.links, p)
	delete(t.hard, p)
}

// whiteout applies .wh.NAME (delete dir/NAME and what is under it) or
// .wh..wh..opq (empty dir of what lower layers put there).
func (t *tree) whiteout(dir, name string) {
	prefix := path.Join(dir, name) + "/"
	if name == ".wh..opq" {
		prefix = strings.TrimSuffix(dir, "/") + "/"
	} else {
		t.remove(path.Join(dir, name))
	}
	for _, m := range []map[string]string{t.links, t.hard} {
		for p := range m {
			if strings.HasPrefix(p, prefix) {
				delete(m, p)
			}
		}
	}
	for p := range t.files {
		if strings.HasPrefix(p, prefix) {
			delete(t.files, p)
		}
	}
}

// resolve follows symbolic and hard links from p to a regular file, as
// the kernel would inside the image (relative targets against the link's
// directory, absolute ones against the image root). ok is false for a
// dangling link, a loop, or no file.
func (t *tree) resolve(p string) (string, *file, bool) {
	p = clean(p)
	for hops := 0; hops < 40; hops++ {
		if f, ok := t.files[p]; ok {
			return p, f, true
		}
		if h, ok := t.hard[p]; ok {
			p = h
			continue
		}
		q, ok := t.resolveDirs(p)
		if !ok {
			return p, nil, false
		}
		p = q
	}
	return p, nil, false
}

// resolveDirs follows the first symbolic link among p and its parents.
func (t *tree) resolveDirs(p string) (string, bool) {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i := len(parts); i > 0; i-- {
		prefix := "/" + strings.Join(parts[:i], "/")
		target, ok := t.links[prefix]
		if !ok {
			continue
		}
		if !strings.HasPrefix(target, "/") {
			target = path.Join(path.Dir(prefix), target)
		}
		rest := strings.Join(parts[i:], "/")
		return clean(path.Join(target, rest)), true
	}
	return "", false
}
