package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/verify/reach"
)

// Entry is one image to verify, as its index lists it.
type Entry struct {
	// Descriptor is the index entry: its platform and annotations are
	// what the image declares.
	Descriptor v1.Descriptor
	// Image is the image itself; its layers are streamed.
	Image v1.Image
}

// state is what verifying one entry gathers.
type state struct {
	o       *options
	e       Entry
	res     *Result
	reqs    requirement.Requirements
	cf      *v1.ConfigFile
	arch    string
	root    string
	tree    *tree
	prog    *program
	progErr error
	interp  string // resolved image path of the program's dynamic linker
	wants   *wants
	// objs is what the start path loads (program first); loadProblems
	// what ld.so would not find.
	objs         []object
	loadProblems []string
}

// verifyEntry verifies entry i.
func (o *options) verifyEntry(ctx context.Context, i int, e Entry) (*Result, error) {
	start := time.Now()
	res := &Result{Index: i, Digest: e.Descriptor.Digest}
	s := &state{o: o, e: e, res: res}
	defer func() { res.Evidence.Seconds = time.Since(start).Seconds() }()
	reqs, err := requirement.FromDescriptor(e.Descriptor)
	if err != nil {
		res.Verdict, res.Reasons = Unverified, []string{"its requirements cannot be read: " + err.Error()}
		return res, nil
	}
	s.reqs, res.Declared = reqs, reqs.String()
	if s.cf, err = readConfig(e.Image); err != nil {
		var big *configTooLarge
		if errors.As(err, &big) {
			res.Verdict, res.Reasons = Unverified, []string{big.Error()}
			return res, nil
		}
		return nil, fmt.Errorf("entry %d (%s): reading config: %w", i, e.Descriptor.Digest, err)
	}
	s.arch = s.cf.Architecture
	if p := e.Descriptor.Platform; p != nil && p.Architecture != "" {
		s.arch = p.Architecture
	}
	res.Platform = s.cf.OS + "/" + s.arch
	if p := e.Descriptor.Platform; p != nil && p.Variant != "" {
		res.Platform += "/" + p.Variant
	}
	if s.root, err = os.MkdirTemp(o.tmpDir, "tailor-verify-"); err != nil {
		return nil, err
	}
	defer os.RemoveAll(s.root)
	o.log.DebugContext(ctx, "verifying entry", "index", i, "digest", e.Descriptor.Digest, "declared", res.Declared)
	if err := s.walk(ctx); err != nil {
		return nil, fmt.Errorf("entry %d (%s): %w", i, e.Descriptor.Digest, err)
	}
	s.judge(ctx)
	return res, nil
}

// maxConfig bounds an image config read: a real one is a few KiB (a
// long history, tens of KiB); the registries' own manifest bound is 4 MiB.
const maxConfig = 4 << 20

// configTooLarge is an image config beyond maxConfig: the entry is
// unverified, the rest of the index still is.
type configTooLarge struct {
	size int64
}

func (e *configTooLarge) Error() string {
	return fmt.Sprintf("its image config is %d bytes or more, beyond the %d bytes verify reads: not a config a runtime would accept", e.size, maxConfig)
}

// readConfig reads img's config, at most maxConfig bytes of it (checked
// against the manifest's size and then while reading, and against its
// digest).
func readConfig(img v1.Image) (*v1.ConfigFile, error) {
	mf, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	if mf.Config.Size > maxConfig {
		return nil, &configTooLarge{size: mf.Config.Size}
	}
	l, err := img.LayerByDigest(mf.Config.Digest)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxConfig+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfig {
		return nil, &configTooLarge{size: int64(len(data))}
	}
	if mf.Config.Digest.Algorithm == "sha256" {
		sum := sha256.Sum256(data)
		if hex.EncodeToString(sum[:]) != mf.Config.Digest.Hex {
			return nil, fmt.Errorf("config %s: its bytes do not match its digest", mf.Config.Digest)
		}
	}
	return v1.ParseConfigFile(bytes.NewReader(data))
}

// walk streams the layers once, the top one first, extracting the start
// path as it learns it (see wants); a second, narrow pass fetches only
// what was learnt too late, from the layers that hold it.
func (s *state) walk(ctx context.Context) error {
	argv := command(s.cf, s.o.cmd)
	s.res.Evidence.Command = argv
	pathEnv, wd := envPath(s.cf), s.cf.Config.WorkingDir
	s.wants = newWants(s.root, s.o.extractLimit, s.o.run, pathEnv, wd)
	s.wants.command(argv)
	s.tree = newTree()
	if err := walkLayers(ctx, s.e.Image, s.tree, s.wants); err != nil {
		return err
	}
	s.resolveStart(argv, pathEnv, wd)
	if missing := s.missing(); len(missing) > 0 {
		if err := s.fetch(ctx, missing); err != nil {
			return err
		}
	}
	s.wants.spec = nil // what was not needed is dropped before the checks
	if s.prog != nil {
		if err := s.programReadable(); err != nil {
			s.prog, s.progErr = nil, err
		}
	}
	t := s.tree
	ev := &s.res.Evidence
	ev.Files, ev.Layers = len(t.files), t.layers
	ev.BytesRead, ev.Uncompressed, ev.Extracted = t.compressed, t.uncompressed, t.extracted
	for _, f := range t.files {
		if f.elf != nil {
			ev.ELF++
		}
	}
	if s.prog != nil {
		ev.Program = s.prog.path
		ev.Command = s.prog.argv
	}
	return nil
}

// programReadable checks that the program was extracted and that its
// headers stay within it: nothing can be checked of one that is not
// (the entry is unverified, with this reason).
func (s *state) programReadable() error {
	f := s.prog.file
	if f.local == "" {
		why := f.extractErr
		if why == "" {
			why = "not extracted"
		}
		return fmt.Errorf("%s: %s", s.prog.path, why)
	}
	ef, err := elf.Open(f.local)
	if err != nil {
		return fmt.Errorf("%s: %w", s.prog.path, err)
	}
	defer ef.Close()
	if err := elfBounds(ef, f.size); err != nil {
		return fmt.Errorf("%s: %w", s.prog.path, err)
	}
	return nil
}

// resolveStart finds the program argv starts and what it loads.
func (s *state) resolveStart(argv []string, pathEnv, wd string) {
	s.prog, s.progErr = s.tree.findProgram(argv, pathEnv, wd)
	if s.progErr != nil {
		return
	}
	s.interp = ""
	if in := s.prog.file.elf.Interp; in != "" {
		if p, _, ok := s.tree.resolve(in); ok {
			s.interp = p
		}
	}
	l := newLdso(s.tree, s.cf.Config.Env, wd, s.level())
	s.objs, s.loadProblems = l.load(s.prog.path, s.prog.file, s.interp, s.modules())
}

// level is the x86-64 level of the declared target (for glibc-hwcaps).
func (s *state) level() int {
	d, err := newDeclared(s.reqs, s.arch)
	if err != nil || s.arch != "amd64" {
		return 0
	}
	for n := 4; n >= 2; n-- {
		if d.hasLevel(n) {
			return n
		}
	}
	return 1
}

// modules are the image paths of the Python extension modules the
// command imports.
func (s *state) modules() []string {
	if len(s.wants.modules) == 0 {
		return nil
	}
	var out []string
	for p, f := range s.tree.files {
		if f.elf != nil && s.wants.isModule(p) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// needsDisk are the image paths (links resolved) the checks need on
// disk: the program, a script it is given, and what it loads (its
// dynamic linker only for a run).
func (s *state) needsDisk() []string {
	if s.prog == nil {
		return nil
	}
	out := []string{s.prog.path}
	if s.o.run {
		for _, a := range s.prog.argv {
			if path.IsAbs(a) {
				if p, f, ok := s.tree.resolve(a); ok && f.elf == nil {
					out = append(out, p) // a script the interpreter reads
				}
			}
		}
	}
	for _, o := range s.objs[1:] {
		if o.role != "interpreter" || s.o.run {
			out = append(out, o.path)
		}
	}
	return out
}

// missing are the files needsDisk lists that the walk did not extract
// (nor tried to).
func (s *state) missing() map[string]bool {
	out := map[string]bool{}
	for _, p := range s.needsDisk() {
		if f := s.tree.files[p]; f != nil && f.local == "" && f.extractErr == "" {
			out[p] = true
		}
	}
	return out
}

// fetch extracts missing files in a second pass over only the layers
// that hold them, each read up to the last of them.
func (s *state) fetch(ctx context.Context, missing map[string]bool) error {
	for p := range missing {
		if data, ok := s.wants.spec[p]; ok {
			s.fromMemory(p, data)
			delete(missing, p)
		}
	}
	s.wants.spec = nil
	if len(missing) == 0 {
		return nil
	}
	w := newWants(s.root, s.wants.budget, false, "", "")
	w.left = map[int]int{}
	for p := range missing {
		w.paths[p] = true
		w.left[s.tree.files[p].layer]++
	}
	again := newTree()
	if err := walkSome(ctx, s.e.Image, again, w, func(i int) bool { return w.left[i] > 0 }); err != nil {
		return err
	}
	for p := range missing {
		g, f := again.files[p], s.tree.files[p]
		if g == nil {
			f.extractErr = "not found again in a second pass"
			continue
		}
		f.local, f.extractErr = g.local, g.extractErr
	}
	s.wants.short = append(s.wants.short, w.short...)
	s.tree.compressed += again.compressed
	s.tree.uncompressed += again.uncompressed
	s.tree.extracted += again.extracted
	return nil
}

// fromMemory writes a library the walk kept in memory to disk.
func (s *state) fromMemory(p string, data []byte) {
	f := s.tree.files[p]
	out, err := s.tree.extractTo(s.wants, p, int64(len(data)))
	if err != nil {
		f.extractErr = err.Error()
		return
	}
	out.Write(data)
	local, err := out.finish()
	if err != nil {
		f.extractErr = err.Error()
		return
	}
	f.local = local
	s.tree.extracted += int64(len(data))
}

// codeReport analyses the reachable code of the program and of the
// libraries and modules it loads (entered through the symbols the
// others import), as one report.
func (s *state) codeReport() (*reach.Report, string) {
	if s.prog == nil {
		return nil, "the program was not found in the image"
	}
	if s.prog.file.local == "" {
		why := "the program could not be extracted"
		if e := s.prog.file.extractErr; e != "" {
			why = s.prog.path + ": " + e
		}
		return nil, why
	}
	if !s.prog.file.elf.IsX86_64() {
		return nil, "only x86-64 machine code is analysed"
	}
	r, err := analyzeFile(s.prog.file.local, s.prog.file.size, nil)
	if err != nil {
		return nil, "reading " + s.prog.path + ": " + err.Error()
	}
	imports := s.imports()
	for _, o := range s.objs[1:] {
		if o.role == "interpreter" || isGlibc(o.path) || o.file.local == "" || !o.file.elf.IsX86_64() {
			continue
		}
		names := imports
		if o.role == "module" {
			name, _, _ := strings.Cut(path.Base(o.path), ".")
			names = append([]string{"PyInit_" + name}, imports...)
		}
		lr, err := analyzeFile(o.file.local, o.file.size, names)
		if err != nil {
			s.o.log.Debug("library code not analysed", "path", o.path, "err", err)
			continue
		}
		mergeReport(r, lr, path.Base(o.path))
	}
	return r, ""
}

// imports are the undefined dynamic symbols of the loaded objects: what
// each library is entered through.
func (s *state) imports() []string {
	seen := map[string]bool{}
	var out []string
	for _, o := range s.objs {
		if o.file.local == "" || o.role == "interpreter" {
			continue
		}
		f, err := elf.Open(o.file.local)
		if err != nil {
			continue
		}
		syms, _ := f.DynamicSymbols()
		f.Close()
		for _, sym := range syms {
			if sym.Section == elf.SHN_UNDEF && sym.Name != "" && !seen[sym.Name] {
				seen[sym.Name] = true
				out = append(out, sym.Name)
			}
		}
	}
	return out
}

// glibcLibs are the libraries of glibc itself: their code is chosen at
// run time by IFUNC and their build level shows in their ISA note, which
// is counted.
var glibcLibs = []string{"ld-linux", "libc.so", "libm.so", "libmvec.so", "libpthread.so", "libdl.so", "librt.so", "libresolv.so", "libutil.so", "libanl.so", "libnsl.so", "libBrokenLocale.so", "libc_malloc_debug.so"}

func isGlibc(p string) bool {
	b := path.Base(p)
	for _, g := range glibcLibs {
		if strings.HasPrefix(b, g) {
			return true
		}
	}
	return false
}

// mergeReport adds a library's findings to the program's report.
func mergeReport(r, lr *reach.Report, lib string) {
	r.Needs |= lr.Needs
	r.Unreached |= lr.Unreached &^ r.Needs
	for name, u := range lr.Uses {
		if _, ok := r.Uses[name]; !ok {
			if r.Uses == nil {
				r.Uses = map[string]reach.Use{}
			}
			u.Function = lib + ":" + u.Function
			r.Uses[name] = u
		}
	}
	r.Functions += lr.Functions
	r.Total += lr.Total
	r.Other += lr.Other
	r.Resolvers += lr.Resolvers
	r.Instructions += lr.Instructions
	r.Errors += lr.Errors
	r.Dispatched |= lr.Dispatched
	r.DispatchBranches += lr.DispatchBranches
	if lr.Caveat != "" && r.Caveat == "" {
		r.Caveat = lib + ": " + lr.Caveat
	}
}

// analyzeFile runs the code analysis on an extracted ELF file of size
// bytes, after checking that its headers stay inside it: a hostile file
// (a segment of 2^62 bytes) is a reason, never a crash.
func analyzeFile(local string, size int64, names []string) (r *reach.Report, err error) {
	f, err := elf.Open(local)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := elfBounds(f, size); err != nil {
		return nil, err
	}
	defer func() {
		if v := recover(); v != nil {
			r, err = nil, fmt.Errorf("malformed ELF file: the analysis failed: %v", v)
		}
	}()
	return reach.AnalyzeFrom(f, names)
}

// elfBounds checks that every segment and section with file contents
// lies inside the file's size bytes.
func elfBounds(f *elf.File, size int64) error {
	n := uint64(size)
	for i, p := range f.Progs {
		if p.Off > n || p.Filesz > n-p.Off {
			return fmt.Errorf("truncated or malformed ELF file: segment %d (%s) spans bytes %d to %d of a %d-byte file", i, p.Type, p.Off, p.Off+p.Filesz, n)
		}
	}
	for _, sec := range f.Sections {
		if sec.Type == elf.SHT_NOBITS || sec.Type == elf.SHT_NULL {
			continue
		}
		if sec.Offset > n || sec.FileSize > n-sec.Offset {
			return fmt.Errorf("truncated or malformed ELF file: section %s spans bytes %d to %d of a %d-byte file", sec.Name, sec.Offset, sec.Offset+sec.FileSize, n)
		}
	}
	return nil
}

// neededLibs returns the image paths of the libraries and modules the
// program loads, as ld.so finds them.
func (s *state) neededLibs() []string {
	var out []string
	for _, o := range s.objs {
		if o.role == "library" || o.role == "module" {
			out = append(out, o.path)
		}
	}
	return out
}
