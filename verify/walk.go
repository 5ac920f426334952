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
	"github.com/google/go-containerregistry/pkg/v1/types"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/tailor-dev/tailor/verify/elfnote"
	"github.com/tailor-dev/tailor/verify/fatbin"
)

// file is what the walk learned of one regular file of the image.
type file struct {
	size int64
	elf  *elfnote.Info // nil: not ELF
	// dyn is what its dynamic section says (nil: none, or unreadable:
	// dynErr says why).
	dyn    *dynInfo
	dynErr string
	cuda   []fatbin.Entry
	// cudaForm is the kind of GPU code file (fatbin.FormELF...), set also
	// when it holds only code the runtime does not load.
	cudaForm string
	// local is where the file was extracted, "" when it was not;
	// extractErr says why a wanted file could not be.
	local      string
	extractErr string
	// head is the start of a non-ELF file (a script's first lines).
	head []byte
	// layer is the index of the layer it came from.
	layer int
}

// tree is the image's file system as the walk saw it, layers applied in
// order (whiteouts honoured): regular files, and symbolic and hard links.
type tree struct {
	files map[string]*file
	links map[string]string // symlink path -> target as written
	hard  map[string]string // hard link path -> the file it names
	// ldCache is /etc/ld.so.cache, when the image has one.
	ldCache []byte
	// stats of the walk
	compressed, uncompressed int64
	layers                   int
	extracted                int64
	// probes counts the shadow lookups made (whiteouts cost the depth of
	// each path, never the number of files).
	probes int
}

func newTree() *tree {
	return &tree{files: map[string]*file{}, links: map[string]string{}, hard: map[string]string{}}
}

// libDirs are the directories ld.so searches by default on the
// distributions tailor meets (Debian multiarch, Fedora/RHEL lib64, Alpine).
var libDirs = []string{"/lib", "/lib64", "/usr/lib", "/usr/lib64", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/local/lib"}

// ldCachePath is where glibc's ld.so keeps its cache of library paths.
const ldCachePath = "/etc/ld.so.cache"

// maxLdCache bounds the ld.so.cache kept in memory (a Debian one is
// tens of KiB).
const maxLdCache = 16 << 20

// headLen is how much of each file is looked at before streaming the rest:
// an ELF file's headers and notes, or a script's first line.
const headLen = 64 << 10

// scriptHead is how much of a #! script is kept (its exec line is
// followed), and scriptBudget how much of all scripts together.
const (
	scriptHead   = 8 << 10
	scriptBudget = 16 << 20
)

// walkLayers streams the layers of img, the top one first, into t: a
// file a higher layer replaces or whites out is never read into t, so
// whiteouts cost the depth of each path rather than the count of files,
// and the program (usually in a top layer) is known before the libraries
// below it stream by.
func walkLayers(ctx context.Context, img v1.Image, t *tree, w *wants) error {
	return walkSome(ctx, img, t, w, nil)
}

// walkSome is walkLayers over the layers only says yes to (all when nil).
func walkSome(ctx context.Context, img v1.Image, t *tree, w *wants, only func(int) bool) error {
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("listing layers: %w", err)
	}
	if w == nil {
		w = &wants{} // extracts nothing
	}
	sh := newShadow()
	for i := len(layers) - 1; i >= 0; i-- {
		if only != nil && !only(i) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		l := layers[i]
		if err := walkLayer(ctx, l, i, t, w, sh); err != nil {
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

// shadow is what the layers above the one being read hide: any entry's
// own path, everything under a non-directory or a whiteout, everything
// under an opaque directory. Entries of the layer being read go to the
// pending sets, merged when it ends (a layer's whiteouts hide only what
// is below it).
type shadow struct {
	exact, leaf, gone, opaque     map[string]bool
	pExact, pLeaf, pGone, pOpaque map[string]bool
}

func newShadow() *shadow {
	return &shadow{exact: map[string]bool{}, leaf: map[string]bool{}, gone: map[string]bool{}, opaque: map[string]bool{},
		pExact: map[string]bool{}, pLeaf: map[string]bool{}, pGone: map[string]bool{}, pOpaque: map[string]bool{}}
}

// hidden reports whether a layer above hides p.
func (s *shadow) hidden(t *tree, p string) bool {
	t.probes++
	if s.exact[p] || s.gone[p] {
		return true
	}
	for a := p; a != "/"; {
		a = path.Dir(a)
		t.probes++
		if s.leaf[a] || s.gone[a] || s.opaque[a] {
			return true
		}
	}
	return false
}

// endLayer makes the layer just read part of what hides the ones below.
func (s *shadow) endLayer() {
	for _, m := range [][2]map[string]bool{{s.exact, s.pExact}, {s.leaf, s.pLeaf}, {s.gone, s.pGone}, {s.opaque, s.pOpaque}} {
		for p := range m[1] {
			m[0][p] = true
		}
		clear(m[1])
	}
}

func walkLayer(ctx context.Context, l v1.Layer, index int, t *tree, w *wants, sh *shadow) error {
	size, _ := l.Size()
	rc, err := uncompressed(l)
	if err != nil {
		return err
	}
	defer rc.Close()
	t.compressed += size
	counted := countingReader{r: rc, n: &t.uncompressed}
	tr := tar.NewReader(counted)
	br := bufio.NewReaderSize(nil, headLen)
	inLayer := map[string]*file{}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if w.done(index) {
			// A later pass for a few files: the rest of the layer was
			// read (and its digest checked) by the first.
			sh.endLayer()
			return nil
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			// Read to the end, so the layer's digest is checked (a
			// corrupted layer is an error, not a verdict).
			if _, err := io.Copy(io.Discard, counted); err != nil {
				return fmt.Errorf("reading layer: %w", err)
			}
			sh.endLayer()
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading tar: %w", err)
		}
		p := clean(h.Name)
		dir, base := path.Split(p)
		if strings.HasPrefix(base, ".wh.") {
			d := path.Clean(dir)
			if base == ".wh..wh..opq" {
				sh.pOpaque[d] = true
			} else {
				sh.pGone[path.Join(d, strings.TrimPrefix(base, ".wh."))] = true
			}
			continue
		}
		if sh.hidden(t, p) {
			continue
		}
		sh.pExact[p] = true
		if h.Typeflag != tar.TypeDir {
			sh.pLeaf[p] = true
		}
		t.remove(p) // an earlier entry of this same layer
		switch h.Typeflag {
		case tar.TypeSymlink:
			t.links[p] = h.Linkname
			w.link(t, p, h.Linkname)
		case tar.TypeLink:
			target := clean(h.Linkname)
			if f, ok := inLayer[target]; ok {
				t.files[p] = f
				w.link(t, p, target)
			} else {
				t.hard[p] = target
			}
		case tar.TypeReg:
			br.Reset(tr)
			f, err := t.readFile(br, p, h.Size, w)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			f.layer = index
			t.files[p] = f
			inLayer[p] = f
			w.learn(p, f)
			if w.left != nil && w.paths[p] {
				w.left[index]--
			}
		}
	}
}

// readFile reads one file of a layer: its head (ELF notes, a script's
// first lines), its dynamic section, the fat binaries of an ELF file,
// and a copy on disk when w wants it.
func (t *tree) readFile(br *bufio.Reader, p string, size int64, w *wants) (*file, error) {
	f := &file{size: size}
	head, _ := br.Peek(int(min(size, headLen)))
	isELF := bytes.HasPrefix(head, elfnote.Magic)
	if isELF {
		if info, err := elfnote.Parse(head); err == nil {
			f.elf = info
		}
	} else {
		n := min(len(head), 256)
		if bytes.HasPrefix(head, []byte("#!")) && w.scriptBytes < scriptBudget {
			n = min(len(head), scriptHead)
			w.scriptBytes += int64(n)
		}
		f.head = bytes.Clone(head[:n])
	}
	var r io.Reader = br
	var out *spill
	if w.want(p, f) {
		var err error
		if out, err = t.extractTo(w, p, size); err != nil {
			f.extractErr = err.Error()
		} else {
			r = teeTo{r: r, w: out}
		}
	}
	var spec *bytes.Buffer
	if out == nil && w.speculate(p, f) {
		spec = bytes.NewBuffer(make([]byte, 0, size))
		r = teeTo{r: r, w: spec}
	}
	capture := f.elf != nil && w.capture.reset(head, size)
	if capture {
		r = teeTo{r: r, w: &w.capture}
	}
	var keep *bytes.Buffer
	if p == ldCachePath && size <= maxLdCache {
		keep = bytes.NewBuffer(make([]byte, 0, size))
		r = teeTo{r: r, w: keep}
	}
	var err error
	if fatbin.Sniff(head) {
		var code fatbin.Reading
		if code, err = fatbin.Read(r); err == nil {
			f.cuda, f.cudaForm = code.Entries, code.Form
		}
	}
	if err == nil {
		_, err = io.Copy(io.Discard, r)
	}
	if out != nil {
		if local, xerr := out.finish(); xerr != nil {
			f.extractErr = xerr.Error()
		} else {
			f.local = local
			t.extracted += size
		}
	}
	if err != nil {
		return nil, err
	}
	if capture {
		if f.dyn, err = w.capture.info(); err != nil {
			f.dyn, f.dynErr = nil, err.Error()
		}
	}
	if keep != nil {
		t.ldCache = keep.Bytes()
	}
	if spec != nil && int64(spec.Len()) == size {
		w.spec[p] = spec.Bytes()
		w.specBudget -= size
	}
	return f, nil
}

// spill is a file being extracted: a failed write (a full disk) is kept,
// not returned, so the layer streams on and the file is reported as not
// extracted.
type spill struct {
	f   *os.File
	err error
}

func (s *spill) Write(p []byte) (int, error) {
	if s.err == nil {
		_, s.err = s.f.Write(p)
	}
	return len(p), nil
}

// finish closes the file; on a failed write it is removed.
func (s *spill) finish() (string, error) {
	err := s.err
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(s.f.Name())
		return "", fmt.Errorf("extracting it: %w", err)
	}
	return s.f.Name(), nil
}

// extractTo creates the file for image path p under w's directory,
// within the extraction budget.
func (t *tree) extractTo(w *wants, p string, size int64) (*spill, error) {
	if size > w.budget {
		err := fmt.Errorf("not extracted: %d bytes, beyond what is left of the extraction limit (%d bytes)", size, w.budget)
		w.short = append(w.short, p+": "+err.Error())
		return nil, err
	}
	local := filepath.Join(w.dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return nil, fmt.Errorf("extracting it: %w", err)
	}
	out, err := os.OpenFile(local, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return nil, fmt.Errorf("extracting it: %w", err)
	}
	w.budget -= size
	return &spill{f: out}, nil
}

// clean makes a tar name an absolute image path.
func clean(name string) string { return path.Clean("/" + name) }

// remove forgets what an earlier entry of the same layer put at p.
func (t *tree) remove(p string) {
	delete(t.files, p)
	delete(t.links, p)
	delete(t.hard, p)
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

// uncompressed opens a layer's tar stream: gzip through
// klauspost/compress (on a Debian root it costs about 0.8 of the CPU of
// the standard library's, which go-containerregistry's Uncompressed
// uses), zstd through klauspost/compress too, an uncompressed tar as is.
func uncompressed(l v1.Layer) (io.ReadCloser, error) {
	if mt, err := l.MediaType(); err == nil && isUncompressedTar(mt) {
		return l.Uncompressed()
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(rc, 256<<10)
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := kgzip.NewReader(br)
		if err != nil {
			rc.Close()
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return &layerReader{Reader: zr, close: func() error { zr.Close(); return rc.Close() }}, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			rc.Close()
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return &layerReader{Reader: zr, close: func() error { zr.Close(); return rc.Close() }}, nil
	}
	return &layerReader{Reader: br, close: rc.Close}, nil
}

func isUncompressedTar(mt types.MediaType) bool {
	return mt == types.OCIUncompressedLayer || mt == types.OCIUncompressedRestrictedLayer || mt == types.DockerUncompressedLayer
}

// layerReader is a decompressed layer that closes its source.
type layerReader struct {
	io.Reader
	close func() error
}

func (l *layerReader) Close() error { return l.close() }
