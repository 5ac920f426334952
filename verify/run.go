package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tailor-dev/tailor/catalog"
)

// qemuModels are the qemu CPU models a declared target runs under: the
// smallest model whose features, as qemu-user's TCG really provides them,
// include every feature of the target (TestQemuModels checks this with
// the CPUID recorded under each model). Targets beyond what TCG emulates
// (AVX-512, and the newer cores' extras) have none.
var qemuModels = map[string]string{
	"x86_64":      "qemu64",
	"nocona":      "Nehalem",
	"core2":       "Nehalem",
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
		return runPlan{skip: fmt.Sprintf("qemu-user emulates no CPU model with all of %s's features (TCG stops at AVX2), and this host is not %s", target.Name(), target.Name())}
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
		ev.Detail = fmt.Sprintf("still running after %s, stopped: no SIGILL so far", o.runTimeout)
	case errors.As(err, &ee):
		ws, _ := ee.Sys().(syscall.WaitStatus)
		switch {
		case ws.Signaled() && ws.Signal() == syscall.SIGILL:
			ev.Outcome, ev.ExitCode = "sigill", 128+int(syscall.SIGILL)
		case ws.Signaled():
			ev.Outcome, ev.ExitCode = "exited", 128+int(ws.Signal())
		case isaRefusal(ev.Stderr):
			ev.Outcome, ev.ExitCode = "refused", ws.ExitStatus()
		default:
			ev.Outcome, ev.ExitCode = "exited", ws.ExitStatus()
		}
	case err != nil:
		ev.Outcome, ev.Detail = "failed", err.Error()
	default:
		ev.Outcome = "exited"
	}
	return ev
}

// isaRefusal reports whether stderr holds glibc's refusal to start on a
// CPU below the ISA level it, or a library, was built for.
func isaRefusal(stderr string) bool {
	return strings.Contains(stderr, "CPU ISA level is lower than required") ||
		strings.Contains(stderr, "CPU does not support x86-64-v")
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

// tail keeps the last maxStderr bytes written to it.
type tail struct{ b []byte }

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > maxStderr {
		t.b = t.b[len(t.b)-maxStderr:]
	}
	return len(p), nil
}

// String drops qemu's warnings about features TCG lacks.
func (t *tail) String() string {
	var keep []string
	for _, l := range strings.Split(string(bytes.TrimSpace(t.b)), "\n") {
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
