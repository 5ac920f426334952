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

// judge gathers the evidence and decides the verdict (DESIGN §5a).
// Evidence, strongest first: a crash under the declared CPU (the SIGILL's
// instruction decoded); a check the program or its loader enforces (ld.so
// and the ISA level notes of what it loads, glibc's and the Go runtime's
// refusals, the Go build's GOAMD64); code that runs unconditionally (the
// reachable code's extensions); code behind a CPU-feature check is
// dispatch and never counts. A run that really exercised the program (it
// ran to a clean exit) wins over the code analysis for every extension
// the CPU model it ran on lacks. A run that never started is no evidence,
// and then nothing weaker makes an entry ok.
func (s *state) judge(ctx context.Context) {
	res := &s.res.Evidence
	d, err := newDeclared(s.reqs, s.arch)
	if err != nil {
		s.res.Verdict, s.res.Reasons = Unverified, []string{err.Error()}
		return
	}
	var lies, remarks, gaps []string
	checked := false
	needs := requirement.Requirements{Source: requirement.SourceShort}
	level := 0 // the x86-64 level an enforced check demands

	if s.progErr != nil {
		gaps = append(gaps, "no program to check: "+s.progErr.Error())
	}
	var rep *reach.Report
	if s.prog != nil {
		// ISA level notes: ld.so enforces them for what it loads.
		lvl, ls, rs := s.notes(d)
		lies, remarks = append(lies, ls...), append(remarks, rs...)
		level = max(level, lvl)
		checked = checked || s.prog.file.elf.IsX86_64()
		// The Go runtime's own floor.
		if s.prog.file.local != "" && s.prog.file.elf.IsX86_64() {
			if g, ok := readGoBuild(s.prog.file.local); ok {
				res.Go = &GoEvidence{Version: g.version, GOAMD64: fmt.Sprintf("v%d", g.level)}
				checked = true
				if g.level >= 2 {
					level = max(level, g.level)
					if !d.hasLevel(g.level) {
						lies = append(lies, fmt.Sprintf("%s: a GOAMD64=v%d Go build (%s); its runtime refuses to start below it (\"This program can only be run on AMD64 processors with v%d microarchitecture support.\"), and the declared %s is below it", levelName(g.level), g.level, g.version, g.level, d.target.Name()))
					}
				}
			}
		}
		// Machine code.
		var skip string
		rep, skip = s.codeReport()
		ce := &CodeEvidence{Report: rep, Skipped: skip}
		res.Code = ce
		switch {
		case rep == nil:
			gaps = append(gaps, "code: "+skip)
		case rep.Caveat != "":
			ce.Skipped = rep.Caveat + "; not counted"
			gaps = append(gaps, "code: "+ce.Skipped)
			rep = nil
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
		}
	}
	if level >= 2 {
		needs.Target = levelTarget(level)
	}
	// CUDA.
	cudaLies, cudaNeeds, cudaChecked := s.cuda()
	lies = append(lies, cudaLies...)
	checked = checked || cudaChecked
	needs.CUDA = cudaNeeds
	// A run under the declared CPU.
	known := true
	exercised, didNotStart := false, false
	var faultNeeds []string
	var (
		plan runPlan
		sb   sandbox
	)
	if s.prog != nil {
		var run *RunEvidence
		run, plan, sb = s.runWith(ctx, d)
		res.Run = run
		switch {
		case run.Outcome == "sigill" && run.Fault != nil && isTrap(run.Fault.Bytes):
			// ud2 (__builtin_trap, Rust's abort): the program stops itself
			// with SIGILL on every CPU; no extension is missing.
			why := fmt.Sprintf("run: it stopped itself with a trap instruction (%s at %#x, SIGILL on any CPU): no evidence of a missing extension", run.Fault.Bytes, run.Fault.Address)
			gaps, remarks = append(gaps, why), append(remarks, why)
			run.Outcome = "trapped"
		}
		switch run.Outcome {
		case "sigill":
			why, fn := sigillLie(run, d)
			lies = append(lies, why)
			faultNeeds = fn
			known = len(fn) > 0
		case "refused":
			lies = append(lies, fmt.Sprintf("%s refuses to start it under %s, the declared %s: %s", run.Detail, runCPU(run), d.target.Name(), firstLineWith(run.Stderr, isaRefusalText(run.Stderr))))
			if lvl := refusedLevel(run.Stderr); lvl >= 2 && needs.Target == "" {
				needs.Target = levelTarget(lvl)
			}
		case "exited":
			// Only a clean exit shows the program ran through: one that
			// stopped on an error (a missing configuration, bad arguments)
			// may never have reached its main work.
			checked = true
			exercised = run.Detail == "" && run.ExitCode == 0
		case "timeout":
			gaps = append(gaps, "run: "+run.Detail)
		case "not-started":
			didNotStart = true
			gaps = append(gaps, "run: the program never started, no evidence: "+run.Detail)
		case "skipped", "failed":
			gaps = append(gaps, "run: "+run.Detail)
		}
	}
	// The code against the run.
	if ce := res.Code; rep != nil && ce != nil {
		kept, refuted := ce.Beyond, []string(nil)
		if exercised {
			kept, refuted = s.refutedByRun(ce.Beyond, res.Run)
		}
		if exercised && len(kept) > 0 && plan.emulator != "" && baselineModel[plan.model] != "" {
			// The model of the declared target has what the code is said to
			// need beyond it (Conroe has SSSE3, x86_64 does not): run again
			// on the lowest real x86-64, which has nothing beyond SSE2.
			again := plan
			again.model = baselineModel[plan.model]
			ev := s.o.runProgram(ctx, again, sb, s.interp)
			res.BaselineRun = ev
			if ev.Outcome == "exited" && ev.Detail == "" && ev.ExitCode == 0 {
				more, also := s.refutedByRun(kept, ev)
				kept, refuted = more, append(refuted, also...)
			}
		}
		if len(kept) > 0 {
			lies = append(lies, codeLie(kept, ce, rep.Uses, d))
		}
		if len(refuted) > 0 {
			under := runCPU(res.Run)
			if res.BaselineRun != nil && res.BaselineRun.Outcome == "exited" && res.BaselineRun.ExitCode == 0 {
				under += " and " + runCPU(res.BaselineRun)
			}
			remarks = append(remarks, fmt.Sprintf("its code reaches %s without a CPU check the analysis recognises, but a run under %s, which lacks them, ran to a clean exit: the run wins, they are taken for code behind a CPU check", strings.Join(refuted, ", "), under))
		}
		needs.Features = slices.DeleteFunc(slices.Clone(ce.Needs), func(f string) bool { return slices.Contains(refuted, f) })
	}
	for _, f := range faultNeeds {
		if !slices.Contains(needs.Features, f) {
			needs.Features = append(needs.Features, f)
		}
	}
	if !known {
		// A crash whose instruction could not be named: the entry needs
		// more than it declares, at least the next level up. Recording
		// "unknown" would make it fit no host at all.
		if n := nextLevel(d); n > 0 && minLevel(needs.Features) < n && (needs.Target == "" || !slices.Contains(catalog.MustLookup(needs.Target).Lineage(), levelTarget(n))) {
			needs.Target = levelTarget(n)
			lies = append(lies, fmt.Sprintf("recorded as needing %s, the least above the declared %s: the faulting instruction could not be named", levelName(n), d.target.Name()))
		}
		known = needs.Target != "" || len(needs.Features) > 0
	}
	switch {
	case len(lies) > 0:
		s.res.Verdict, s.res.Reasons = Mislabeled, append(lies, remarks...)
	case didNotStart:
		s.res.Verdict, s.res.Reasons = Unverified, append(gaps, remarks...)
	case checked:
		s.res.Verdict, s.res.Reasons = OK, remarks
	default:
		s.res.Verdict, s.res.Reasons = Unverified, gaps
	}
	s.res.needs, s.res.needsKnown = needs, known
	if !needs.IsGeneric() {
		s.res.Needs = needs.String()
	}
}

// isTrap reports whether hex-encoded bytes are an instruction that
// raises SIGILL on every CPU: ud2 (0f 0b), ud1 (0f b9), ud0 (0f ff).
func isTrap(bytes string) bool {
	return bytes == "0f0b" || strings.HasPrefix(bytes, "0fb9") || strings.HasPrefix(bytes, "0fff")
}

// nextLevel is the x86-64 level above the declared target's (0 when
// there is none).
func nextLevel(d *declared) int {
	for n := 2; n <= 4; n++ {
		if !d.hasLevel(n) {
			return n
		}
	}
	return 0
}

// refutedByRun splits beyond into the extensions a run that exited on its
// own did not refute, and those it did: the ones the CPU it ran on lacks
// (had the code needed them, it would have died with SIGILL).
func (s *state) refutedByRun(beyond []string, run *RunEvidence) (kept, refuted []string) {
	var cpu *profile.Profile
	switch {
	case run.Emulator == "" && s.o.host != nil:
		cpu = s.o.host
	case modelTargets[run.CPU] != "":
		cpu, _ = profile.New(modelTargets[run.CPU])
	}
	for _, f := range beyond {
		if cpu != nil && !cpu.HasFeature(f) {
			refuted = append(refuted, f)
		} else {
			kept = append(kept, f)
		}
	}
	return kept, refuted
}

// sigillLie says what a SIGILL under the declared CPU proves, naming the
// instruction; it returns the extensions the instruction needs.
func sigillLie(run *RunEvidence, d *declared) (string, []string) {
	why := fmt.Sprintf("dies with SIGILL under %s, the declared %s", runCPU(run), d.target.Name())
	f := run.Fault
	if f == nil {
		return why, nil
	}
	var beyond []string
	for _, n := range f.Needs {
		if !d.has(n) {
			beyond = append(beyond, n)
		}
	}
	where := fmt.Sprintf("%#x", f.Address)
	if f.File != "" {
		where = fmt.Sprintf("%#x of %s", f.Offset, f.File)
	}
	switch {
	case len(beyond) > 0:
		return fmt.Sprintf("%s: the instruction at %s (%s) needs %s", why, where, f.Bytes, strings.Join(beyond, ", ")), beyond
	case len(f.Needs) > 0:
		return fmt.Sprintf("%s: the instruction at %s (%s) needs %s", why, where, f.Bytes, strings.Join(f.Needs, ", ")), f.Needs
	}
	return fmt.Sprintf("%s; the faulting instruction: %s", why, f.Detail), nil
}

// refusedLevel reads the x86-64 level a refusal names ("v3
// microarchitecture", "x86-64-v3"), 0 when it names none.
func refusedLevel(stderr string) int {
	for n := 4; n >= 2; n-- {
		if strings.Contains(stderr, fmt.Sprintf("x86-64-v%d", n)) || strings.Contains(stderr, fmt.Sprintf("with v%d microarchitecture", n)) {
			return n
		}
	}
	return 0
}

// isaRefusalText is the refusal message found in stderr.
func isaRefusalText(stderr string) string {
	for _, r := range isaRefusals {
		if strings.Contains(stderr, r.text) {
			return r.text
		}
	}
	return ""
}

// firstLineWith is the line of s holding sub (its first line when sub is
// empty or absent).
func firstLineWith(s, sub string) string {
	if sub != "" {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, sub) {
				return strings.TrimSpace(l)
			}
		}
	}
	return firstLine(s)
}

// notes collects the ISA level notes of the program, its dynamic linker
// and its libraries; it returns the highest level a loader enforces, the
// lies, and remarks on notes nothing enforces (a static program's: no
// loader reads it, and the program runs wherever its code does).
func (s *state) notes(d *declared) (int, []string, []string) {
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
	static := s.prog.file.elf.Interp == ""
	highest := 0
	var lies, remarks []string
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
		if static && counted[p] == "program" {
			if !d.hasLevel(n) {
				remarks = append(remarks, fmt.Sprintf("the ISA level note of the static program %s says %s, but no loader checks a static program's note: its code and its run decide", p, levelName(n)))
			}
			continue
		}
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
	return highest, lies, remarks
}

// codeLie says which extensions beyond the declaration the code uses, and
// where.
func codeLie(beyond []string, ce *CodeEvidence, uses map[string]reach.Use, d *declared) string {
	var parts []string
	for _, f := range beyond {
		u := uses[f]
		parts = append(parts, fmt.Sprintf("%s (%d instructions, first in %s at %#x)", f, u.Count, u.Function, u.Address))
	}
	s := "its code uses " + strings.Join(parts, ", ") + ", beyond the declared " + d.target.Name()
	if n := minLevel(beyond); n >= 2 && ce.Level != "" {
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

// runWith runs the program under the declared CPU, and returns how, for
// a second run.
func (s *state) runWith(ctx context.Context, d *declared) (*RunEvidence, runPlan, sandbox) {
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
	sb := sandbox{root: s.root, prog: s.prog, env: s.cf.Config.Env, workdir: s.cf.Config.WorkingDir, interp: s.interp,
		files: func(p string) (string, string, bool) {
			rp, f, ok := s.tree.resolve(p)
			if !ok || f.local == "" {
				return "", "", false
			}
			return rp, f.local, true
		}}
	return s.o.runProgram(ctx, plan, sb, s.interp), plan, sb
}
