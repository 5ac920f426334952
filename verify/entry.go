package verify

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"path"
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
	if s.cf, err = e.Image.ConfigFile(); err != nil {
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

// walk streams the layers, extracting the program (found on a second
// pass when links or a #! line lead elsewhere) and, for runs, the shared
// libraries.
func (s *state) walk(ctx context.Context) error {
	argv := command(s.cf, s.o.cmd)
	s.res.Evidence.Command = argv
	w := &wants{dir: s.root, paths: map[string]bool{}, libs: s.o.run, budget: s.o.extractLimit}
	if len(argv) > 0 {
		for _, c := range candidates(argv[0], envPath(s.cf), s.cf.Config.WorkingDir) {
			w.paths[c] = true
		}
	}
	s.tree = newTree()
	if err := walkLayers(ctx, s.e.Image, s.tree, w); err != nil {
		return err
	}
	for pass := 0; pass < 2; pass++ {
		s.prog, s.progErr = s.tree.findProgram(argv, envPath(s.cf), s.cf.Config.WorkingDir)
		if s.progErr != nil {
			break
		}
		s.interp = ""
		if in := s.prog.file.elf.Interp; in != "" {
			if p, _, ok := s.tree.resolve(in); ok {
				s.interp = p
			}
		}
		missing := map[string]bool{}
		for _, p := range s.runFiles() {
			if _, f, ok := s.tree.resolve(p); ok && f.local == "" {
				rp, _, _ := s.tree.resolve(p)
				missing[rp] = true
			}
		}
		if len(missing) == 0 {
			break
		}
		// A second pass for the files the first could not know of.
		again := newTree()
		if err := walkLayers(ctx, s.e.Image, again, &wants{dir: s.root, paths: missing}); err != nil {
			return err
		}
		again.compressed += s.tree.compressed
		again.uncompressed += s.tree.uncompressed
		again.extracted += s.tree.extracted
		for p, f := range s.tree.files { // keep what pass one extracted
			if g, ok := again.files[p]; ok && g.local == "" {
				g.local = f.local
			}
		}
		s.tree = again
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

// runFiles are the image paths the checks need on disk: the program, a
// script it runs, its dynamic linker.
func (s *state) runFiles() []string {
	out := []string{s.prog.path}
	for _, a := range s.prog.argv {
		if path.IsAbs(a) {
			if _, f, ok := s.tree.resolve(a); ok && f.elf == nil {
				out = append(out, a) // a script the interpreter reads
			}
		}
	}
	if s.interp != "" && s.o.run {
		out = append(out, s.interp)
	}
	return out
}

// codeReport analyses the program's reachable code.
func (s *state) codeReport() (*reach.Report, string) {
	if s.prog == nil || s.prog.file.local == "" {
		return nil, "the program was not found in the image"
	}
	if !s.prog.file.elf.IsX86_64() {
		return nil, "only x86-64 machine code is analysed"
	}
	f, err := elf.Open(s.prog.file.local)
	if err != nil {
		return nil, "reading " + s.prog.path + ": " + err.Error()
	}
	defer f.Close()
	r, err := reach.Analyze(f)
	if err != nil {
		return nil, err.Error()
	}
	return r, ""
}

// neededLibs returns the image paths of the libraries the program loads,
// found by name in the default library directories, transitively where
// the libraries were extracted.
func (s *state) neededLibs() []string {
	var out []string
	seen := map[string]bool{}
	queue := []string{s.prog.file.local}
	for len(queue) > 0 && len(out) < 256 {
		local := queue[0]
		queue = queue[1:]
		f, err := elf.Open(local)
		if err != nil {
			continue
		}
		libs, _ := f.ImportedLibraries()
		f.Close()
		for _, name := range libs {
			for _, d := range libDirs {
				p, file, ok := s.tree.resolve(path.Join(d, name))
				if !ok || seen[p] || file.elf == nil {
					continue
				}
				seen[p] = true
				out = append(out, p)
				if file.local != "" {
					queue = append(queue, file.local)
				}
				break
			}
		}
	}
	return out
}
