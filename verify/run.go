package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tailor-dev/tailor/catalog"
)

// qemuModels are the qemu CPU models a declared target runs under: the
// lowest real CPU model whose features, as qemu-user's TCG really provides
// them, include every feature of the target (TestQemuModels checks this
// with the CPUID recorded under each model). Never qemu64: it is no real
// CPU, and libraries that pick kernels by CPU model (OpenBLAS) take it for
// an Opteron and run 3DNow! code it lacks. Targets beyond what TCG
// emulates (AVX-512, and the newer cores' extras) have none.
var qemuModels = map[string]string{
	"x86_64":      "Conroe",
	"nocona":      "Conroe",
	"core2":       "Conroe",
	"x86_64_v2":   "Nehalem",
	"nehalem":     "Nehalem",
	"westmere":    "Westmere",
	"sandybridge": "SandyBridge",
	"ivybridge":   "IvyBridge",
	"x86_64_v3":   "Haswell",
	"haswell":     "Haswell",
	"aarch64":     "cortex-a53",
	"cortex_a72":  "cortex-a72",
	"neoverse_n1": "neoverse-n1",
	"a64fx":       "a64fx",
}

// modelTargets are the catalog targets whose features each qemu model
// has, as TCG provides them (TestQemuModels checks it): a feature the
// model's target lacks is one a clean run under the model did without.
var modelTargets = map[string]string{
	"Conroe":      "core2",
	"Opteron_G1":  "x86_64",
	"Nehalem":     "nehalem",
	"Westmere":    "westmere",
	"SandyBridge": "sandybridge",
	"IvyBridge":   "ivybridge",
	"Haswell":     "haswell",
}

// baselineModel is, for a model with more than its targets need (Conroe
// has SSE3 and SSSE3, which x86_64 and core2's ancestors lack), the real
// CPU model with nothing beyond x86-64's SSE2 (AMD's first Opteron): a
// second run there settles what the first could not.
var baselineModel = map[string]string{"Conroe": "Opteron_G1"}

// qemuBinary is the qemu-user emulator of an OCI architecture.
func qemuBinary(arch string) string {
	switch arch {
	case "amd64":
		return "qemu-x86_64"
	case "arm64":
		return "qemu-aarch64"
	}
	return ""
}

// runPlan is how an entry's command runs: under qemu with a model, or
// natively; or why it does not.
type runPlan struct {
	emulator, model string
	native          bool
	skip            string
}

// planRun decides how to run an entry declaring target (its family's
// generic target when it declares none), of OCI architecture arch.
func (o *options) planRun(target *catalog.Target, arch string) runPlan {
	if !o.run {
		return runPlan{skip: "runs are off"}
	}
	if o.host != nil && o.host.CPU.Microarchitecture == target.Name() && o.host.Architecture == arch {
		return runPlan{native: true, model: "host"}
	}
	model, ok := qemuModels[target.Name()]
	if !ok {
		why := "qemu-user emulates no CPU model with all of its features (TCG stops at AVX2: no AVX-512, AMX or AVX-VNNI)"
		if slices.Contains(target.Lineage(), "x86_64_v4") {
			why = "qemu-user's TCG cannot run AVX-512 code"
		}
		return runPlan{skip: fmt.Sprintf("no run: the declared %s cannot be emulated (%s), and this host is not %s", target.Name(), why, target.Name())}
	}
	bin := qemuBinary(arch)
	p, err := o.lookPath(bin)
	if err != nil {
		return runPlan{skip: fmt.Sprintf("%s is not installed (Debian: apt-get install qemu-user)", bin)}
	}
	return runPlan{emulator: p, model: model}
}

// sandbox is a program extracted under root, ready to run.
type sandbox struct {
	root    string
	prog    *program
	env     []string
	workdir string
	// interp is the image path of the program's dynamic linker ("" for a
	// static program); files resolves an image path (links followed) to
	// the file and where it was extracted.
	interp string
	files  func(p string) (imagePath, local string, ok bool)
}

// maxStderr is how much of a run's stderr is kept (its end).
const maxStderr = 2048

// run executes the plan and says what happened.
func (o *options) runProgram(ctx context.Context, plan runPlan, sb sandbox, interp string) *RunEvidence {
	ev := &RunEvidence{CPU: plan.model, Emulator: plan.emulator}
	if plan.skip != "" {
		ev.Outcome, ev.Detail = "skipped", plan.skip
		return ev
	}
	host := filepath.Join(sb.root, filepath.FromSlash(sb.prog.path))
	var argv []string
	switch {
	case plan.emulator != "":
		argv = append([]string{plan.emulator, "-L", sb.root, "-cpu", plan.model, "-0", sb.prog.argv[0], host}, sb.prog.argv[1:]...)
	case interp != "":
		ld := filepath.Join(sb.root, filepath.FromSlash(interp))
		argv = append([]string{ld, "--library-path", libraryPath(sb.root), "--argv0", sb.prog.argv[0], host}, sb.prog.argv[1:]...)
	default:
		argv = append([]string{host}, sb.prog.argv[1:]...)
	}
	ctx, cancel := context.WithTimeout(ctx, o.runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = sb.env
	cmd.Dir = sb.root
	if d := filepath.Join(sb.root, filepath.FromSlash(sb.workdir)); sb.workdir != "" && isDir(d) {
		cmd.Dir = d
	}
	var stderr tail
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	start := time.Now()
	o.log.DebugContext(ctx, "running", "argv", argv)
	err := cmd.Run()
	ev.Seconds = time.Since(start).Seconds()
	ev.Stderr = stderr.String()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		ev.Outcome = "timeout"
		ev.Detail = fmt.Sprintf("still running after %s, stopped: no SIGILL so far, but a run that did not end shows little", o.runTimeout)
	case errors.As(err, &ee):
		ws, _ := ee.Sys().(syscall.WaitStatus)
		switch {
		case ws.Signaled() && ws.Signal() == syscall.SIGILL:
			ev.Outcome, ev.ExitCode = "sigill", 128+int(syscall.SIGILL)
		case goSIGILL(ev.Stderr):
			// The Go runtime catches SIGILL, prints the instruction and exits 2.
			ev.Outcome, ev.ExitCode = "sigill", ws.ExitStatus()
		case ws.Signaled():
			ev.Outcome, ev.ExitCode = "exited", 128+int(ws.Signal())
			ev.Detail = "killed by " + ws.Signal().String() + ": it ran, but not to its end"
		case isaRefusal(ev.Stderr) != "":
			ev.Outcome, ev.ExitCode, ev.Detail = "refused", ws.ExitStatus(), isaRefusal(ev.Stderr)
		default:
			ev.Outcome, ev.ExitCode = "exited", ws.ExitStatus()
			if why := notStarted(ev.ExitCode, ev.Stderr); why != "" {
				ev.Outcome, ev.Detail = "not-started", why
			}
		}
	case err != nil:
		ev.Outcome, ev.Detail = "failed", err.Error()
	default:
		ev.Outcome = "exited"
	}
	if ev.Outcome == "sigill" {
		ev.Fault = o.locateFault(ctx, plan, sb, argv, ev.Stderr)
	}
	return ev
}

// isaRefusals are the messages of the checks that refuse to start a
// program on a CPU below the level it was built for, and who enforces each.
var isaRefusals = []struct{ text, who string }{
	{"CPU ISA level is lower than required", "ld.so (the ISA level note of a library it loads)"},
	{"CPU does not support x86-64-v", "glibc (built for a higher x86-64 level)"},
	{"This program can only be run on AMD64 processors with v", "the Go runtime (its GOAMD64 level)"},
}

// isaRefusal says who refused to start the program on this CPU, "" when
// stderr holds no such refusal.
func isaRefusal(stderr string) string {
	for _, r := range isaRefusals {
		if strings.Contains(stderr, r.text) {
			return r.who
		}
	}
	return ""
}

// goSIGILL reports whether stderr is the Go runtime's report of a SIGILL.
func goSIGILL(stderr string) bool {
	return strings.Contains(stderr, "SIGILL: illegal instruction")
}

// notStartedSigns are what a run that never reached the program's own
// code prints: the kernel, qemu, ld.so, an interpreter missing its
// library. shellSigns count only with the shell's exit codes 126 and 127
// (a program may print "not found" itself).
var (
	notStartedSigns = []string{
		"error while loading shared libraries",
		"cannot open shared object file",
		"Exec format error",
		"exec format error",
		"Invalid ELF image",
		"No module named 'encodings'",
		"No module named encodings",
		"init_fs_encoding",
		"Could not find or load main class",
	}
	shellSigns = []string{"not found", "No such file or directory", "no such file or directory", "Permission denied", "Could not open"}
)

// notStarted says why a run that exited with code never ran the program
// ("" when it did).
func notStarted(code int, stderr string) string {
	if code == 0 {
		return ""
	}
	signs := notStartedSigns
	if code == 126 || code == 127 {
		signs = append(slices.Clone(signs), shellSigns...)
	}
	for _, s := range signs {
		if strings.Contains(stderr, s) {
			return fmt.Sprintf("exit status %d: %s", code, lineWith(stderr, s))
		}
	}
	if code == 126 || code == 127 {
		return fmt.Sprintf("exit status %d (cannot execute, or not found)", code)
	}
	return ""
}

// lineWith is the first line of s containing sub.
func lineWith(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return sub
}

// libraryPath lists the library directories of root for ld.so.
func libraryPath(root string) string {
	var dirs []string
	for _, d := range libDirs {
		dirs = append(dirs, filepath.Join(root, filepath.FromSlash(d)))
	}
	return strings.Join(dirs, ":")
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// maxStderrHead is how much of the start of a run's stderr is kept: the
// Go runtime's SIGILL report comes first, before every goroutine's stack.
const maxStderrHead = 4096

// tail keeps the first maxStderrHead and the last maxStderr bytes written
// to it.
type tail struct {
	head, b []byte
	cut     bool
}

func (t *tail) Write(p []byte) (int, error) {
	n := len(p)
	if room := maxStderrHead - len(t.head); room > 0 {
		k := min(room, len(p))
		t.head = append(t.head, p[:k]...)
		p = p[k:]
	}
	t.b = append(t.b, p...)
	if len(t.b) > maxStderr {
		t.b, t.cut = t.b[len(t.b)-maxStderr:], true
	}
	return n, nil
}

// String drops qemu's warnings about features TCG lacks.
func (t *tail) String() string {
	all := string(t.head)
	if t.cut {
		all += "\n[...]\n"
	}
	all += string(t.b)
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(all), "\n") {
		if !strings.Contains(l, "TCG doesn't support requested feature") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// linkTree recreates the image's symbolic links under root, so that the
// extracted libraries are found by the names programs load them by. Every
// target is made absolute inside root (a relative target's ".." stops at
// the image root, as path.Join does), so no link leads out of root.
func (t *tree) linkTree(root string) {
	for p, target := range t.links {
		local := filepath.Join(root, filepath.FromSlash(p))
		if _, err := os.Lstat(local); err == nil {
			continue
		}
		if !strings.HasPrefix(target, "/") {
			target = path.Join(path.Dir(p), target)
		}
		target = filepath.Join(root, filepath.FromSlash(path.Clean("/"+target)))
		if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			continue
		}
		_ = os.Symlink(target, local)
	}
}
