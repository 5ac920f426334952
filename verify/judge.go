package verify

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/verify/fatbin"
	"github.com/tailor-dev/tailor/verify/reach"
)

// declared is what an entry's declaration gives a host: its target (the
// family's generic one when it names none) with its features and the
// extra features.
type declared struct {
	target *catalog.Target
	p      *profile.Profile
}

func newDeclared(r requirement.Requirements, arch string) (*declared, error) {
	name := r.Target
	if name == "" {
		name = genericTarget(arch)
	}
	if name == "" {
		return nil, fmt.Errorf("architecture %s: no catalog family", arch)
	}
	p, err := profile.New(name)
	if err != nil {
		return nil, err
	}
	p.CPU.Features = append(p.CPU.Features, r.Features...)
	t, _ := p.Target()
	return &declared{target: t, p: p}, nil
}

// genericTarget is the catalog root of an OCI architecture.
func genericTarget(arch string) string {
	switch arch {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	}
	return ""
}

// has reports whether the declaration gives feature f.
func (d *declared) has(f string) bool { return d.p.HasFeature(f) }

// hasLevel reports whether the declared target is x86-64 level n or above.
func (d *declared) hasLevel(n int) bool {
	if n < 2 {
		return true
	}
	return slices.Contains(d.target.Lineage(), levelTarget(n))
}

// levelTarget names the catalog target of x86-64 level n.
func levelTarget(n int) string { return fmt.Sprintf("x86_64_v%d", n) }

// levelName spells level n as ISA notes and glibc do.
func levelName(n int) string {
	if n <= 1 {
		return "x86-64-baseline"
	}
	return fmt.Sprintf("x86-64-v%d", n)
}

// minLevel is the lowest x86-64 level whose target has every feature of
// fs (0 when fs is empty, -1 when no level has them all).
func minLevel(fs []string) int {
	if len(fs) == 0 {
		return 0
	}
	for n := 2; n <= 4; n++ {
		p, err := profile.New(levelTarget(n))
		if err != nil {
			continue
		}
		if !slices.ContainsFunc(fs, func(f string) bool { return !p.HasFeature(f) }) {
			return n
		}
	}
	return -1
}

// judge gathers the evidence and decides the verdict.
func (s *state) judge(ctx context.Context) {
	res := &s.res.Evidence
	d, err := newDeclared(s.reqs, s.arch)
	if err != nil {
		s.res.Verdict, s.res.Reasons = Unverified, []string{err.Error()}
		return
	}
	var lies, gaps []string
	checked, explained := false, false
	needs := requirement.Requirements{Source: requirement.SourceShort}

	if s.progErr != nil {
		gaps = append(gaps, "no program to check: "+s.progErr.Error())
	}
	// ELF notes.
	if s.prog != nil {
		lvl, ls := s.notes(d)
		lies = append(lies, ls...)
		explained = len(ls) > 0
		checked = checked || s.prog.file.elf.IsX86_64()
		if lvl >= 2 {
			needs.Target = levelTarget(lvl)
		}
	}
	// Machine code.
	if s.prog != nil {
		rep, skip := s.codeReport()
		ce := &CodeEvidence{Report: rep, Skipped: skip}
		res.Code = ce
		switch {
		case rep == nil:
			gaps = append(gaps, "code: "+skip)
		case rep.Caveat != "":
			ce.Skipped = rep.Caveat + "; not counted"
			gaps = append(gaps, "code: "+ce.Skipped)
		default:
			checked = true
			ce.Needs = rep.Needs.Names()
			ce.Selected = (rep.Unreached &^ rep.Needs).Names()
			if n := minLevel(ce.Needs); n >= 2 {
				ce.Level = levelName(n)
			}
			for _, f := range ce.Needs {
				if !d.has(f) {
					ce.Beyond = append(ce.Beyond, f)
				}
			}
			if len(ce.Beyond) > 0 {
				lies = append(lies, codeLie(ce, rep.Uses, d))
				explained = true
			}
			needs.Features = ce.Needs
		}
	}
	// CUDA.
	cudaLies, cudaNeeds, cudaChecked := s.cuda()
	lies = append(lies, cudaLies...)
	checked = checked || cudaChecked
	needs.CUDA = cudaNeeds
	// A run under the declared CPU.
	known := true
	if s.prog != nil {
		run := s.run(ctx, d)
		res.Run = run
		switch run.Outcome {
		case "sigill":
			lies = append(lies, fmt.Sprintf("dies with SIGILL under %s, the declared %s", runCPU(run), d.target.Name()))
			known = explained
		case "refused":
			lies = append(lies, fmt.Sprintf("glibc refuses to start under %s, the declared %s: %s", runCPU(run), d.target.Name(), firstLine(run.Stderr)))
			known = explained
		case "exited", "timeout":
			checked = true
		case "skipped", "failed":
			gaps = append(gaps, "run: "+run.Detail)
		}
	}
	switch {
	case len(lies) > 0:
		s.res.Verdict, s.res.Reasons = Mislabeled, lies
	case checked:
		s.res.Verdict = OK
	default:
		s.res.Verdict, s.res.Reasons = Unverified, gaps
	}
	s.res.needs, s.res.needsKnown = needs, known
	if !needs.IsGeneric() {
		s.res.Needs = needs.String()
	}
}

// notes collects the ISA level notes of the program, its dynamic linker
// and its libraries; it returns the highest level and the lies.
func (s *state) notes(d *declared) (int, []string) {
	ev := &s.res.Evidence
	counted := map[string]string{s.prog.path: "program"}
	if s.interp != "" {
		counted[s.interp] = "interpreter"
	}
	if s.prog.file.local != "" {
		for _, p := range s.neededLibs() {
			if _, ok := counted[p]; !ok {
				counted[p] = "library"
			}
		}
	}
	highest := 0
	var lies []string
	paths := make([]string, 0, len(counted))
	for p := range counted {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		f := s.tree.files[p]
		if f == nil || f.elf == nil || f.elf.ISANeeded == 0 {
			continue
		}
		n := f.elf.ISANeeded
		ev.Notes = append(ev.Notes, NoteEvidence{Path: p, Level: levelName(n), Role: counted[p]})
		highest = max(highest, n)
		if !d.hasLevel(n) {
			lies = append(lies, fmt.Sprintf("%s: the ISA level note of %s (%s) says so, and ld.so refuses to load it below (\"CPU ISA level is lower than required\"); the declared %s is below it", levelName(n), p, counted[p], d.target.Name()))
		}
	}
	var others []string
	for p, f := range s.tree.files {
		if _, ok := counted[p]; !ok && f.elf != nil && f.elf.ISANeeded >= 2 {
			others = append(others, p)
		}
	}
	sort.Strings(others)
	for i, p := range others {
		if i == 20 {
			ev.OtherNotes = append(ev.OtherNotes, NoteEvidence{Path: fmt.Sprintf("... and %d more", len(others)-20)})
			break
		}
		ev.OtherNotes = append(ev.OtherNotes, NoteEvidence{Path: p, Level: levelName(s.tree.files[p].elf.ISANeeded)})
	}
	return highest, lies
}

// codeLie says which extensions beyond the declaration the code uses, and
// where.
func codeLie(ce *CodeEvidence, uses map[string]reach.Use, d *declared) string {
	var parts []string
	for _, f := range ce.Beyond {
		u := uses[f]
		parts = append(parts, fmt.Sprintf("%s (%d instructions, first in %s at %#x)", f, u.Count, u.Function, u.Address))
	}
	s := "its code uses " + strings.Join(parts, ", ") + ", beyond the declared " + d.target.Name()
	if ce.Level != "" {
		s += "; it needs " + ce.Level
	}
	return s
}

func runCPU(r *RunEvidence) string {
	if r.Emulator != "" {
		return fmt.Sprintf("%s -cpu %s", path.Base(r.Emulator), r.CPU)
	}
	return "this host's CPU"
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// cuda compares the fat binaries' code with dev.tailor.cuda.arch: every
// declared architecture must have code that runs on it in every file that
// carries CUDA code. It returns the lies, the architectures the code
// really serves (recorded when it lies), and whether anything was checked.
func (s *state) cuda() ([]string, []requirement.CUDAArch, bool) {
	ev := &s.res.Evidence
	var paths []string
	for p, f := range s.tree.files {
		if len(f.cuda) > 0 {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		ev.CUDA = append(ev.CUDA, CUDAEvidence{Path: p, Archs: fatbin.Archs(s.tree.files[p].cuda)})
	}
	declaredArchs := s.reqs.CUDA
	if len(paths) == 0 || len(declaredArchs) == 0 {
		return nil, nil, false
	}
	var lies []string
	var keep []requirement.CUDAArch
	for _, a := range declaredArchs {
		ok := true
		for _, p := range paths {
			if !runsOn(s.tree.files[p].cuda, a) {
				ok = false
				lies = append(lies, fmt.Sprintf("%s: declared in %s, but %s carries no code that runs on compute capability %s (it has %s)",
					a, requirement.AnnotationCUDAArch, p, a.Capability(), strings.Join(fatbin.Archs(s.tree.files[p].cuda), ", ")))
				break
			}
		}
		if ok {
			keep = append(keep, a)
		}
	}
	if len(lies) == 0 {
		return nil, nil, true
	}
	if len(keep) == 0 {
		for _, name := range fatbin.Archs(s.tree.files[paths[0]].cuda) {
			if a, err := requirement.ParseCUDAArch(name); err == nil {
				keep = append(keep, a)
			}
		}
	}
	return lies, keep, true
}

// runsOn reports whether some entry of es runs on the capability a names.
func runsOn(es []fatbin.Entry, a requirement.CUDAArch) bool {
	for _, e := range es {
		c, err := requirement.ParseCUDAArch(e.Arch())
		if err != nil {
			continue
		}
		if ok, _ := c.RunsOn(a.Major, a.Minor); ok {
			return true
		}
	}
	return false
}

// run runs the program under the declared CPU.
func (s *state) run(ctx context.Context, d *declared) *RunEvidence {
	plan := s.o.planRun(d.target, s.arch)
	if plan.skip == "" && s.prog.file.local == "" {
		plan.skip = "the program could not be extracted"
	}
	if plan.skip == "" && s.prog.file.elf.Interp != "" && s.interp == "" {
		plan.skip = "its dynamic linker " + s.prog.file.elf.Interp + " is not in the image"
	}
	if plan.skip == "" && len(s.wants.short) > 0 {
		plan.skip = fmt.Sprintf("the files it loads exceed the extraction limit of %d bytes (%s)", s.o.extractLimit, s.wants.short[0])
	}
	if plan.skip == "" {
		s.tree.linkTree(s.root)
	}
	sb := sandbox{root: s.root, prog: s.prog, env: s.cf.Config.Env, workdir: s.cf.Config.WorkingDir}
	return s.o.runProgram(ctx, plan, sb, s.interp)
}
