package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/tailor-dev/tailor/internal/lazyre"
)

// ErrNoCompiler is returned (wrapped) when no local toolchain can build a
// value: no C compiler for a target's architecture, or one too old to
// know it; no nvcc for CUDA code, or one of another version; no hipcc for
// ROCm code.
var ErrNoCompiler = errors.New("missing toolchain")

// Compiler is a C compiler found on this machine.
type Compiler struct {
	// Path is the command (cc, gcc, aarch64-linux-gnu-gcc).
	Path string
	// Kind is the catalog's compiler name: gcc or clang.
	Kind string
	// Version is its full version, 12.2.0.
	Version string
}

var clangVersion = lazyre.New(`clang version ([0-9]+(?:\.[0-9]+)*)`)

// DetectCompiler runs path --version (and gcc's -dumpfullversion) to find
// which compiler it is and its version.
func DetectCompiler(ctx context.Context, path string) (Compiler, error) {
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return Compiler{}, fmt.Errorf("%w: running %s --version: %w", ErrNoCompiler, path, err)
	}
	if m := clangVersion.FindSubmatch(out); m != nil {
		return Compiler{Path: path, Kind: "clang", Version: string(m[1])}, nil
	}
	v, err := exec.CommandContext(ctx, path, "-dumpfullversion").Output()
	if err != nil {
		return Compiler{}, fmt.Errorf("%w: %s is neither gcc nor clang: %s", ErrNoCompiler, path, firstLine(out))
	}
	return Compiler{Path: path, Kind: "gcc", Version: string(bytes.TrimSpace(v))}, nil
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line)
}

// crossPrefix is the Debian cross-compiler prefix of each architecture.
var crossPrefix = map[string]string{
	"amd64":   "x86_64-linux-gnu-",
	"arm64":   "aarch64-linux-gnu-",
	"ppc64le": "powerpc64le-linux-gnu-",
	"riscv64": "riscv64-linux-gnu-",
	"s390x":   "s390x-linux-gnu-",
}

// compilerCommand names the compiler for arch: $CC (or cc) for this
// machine's architecture, the Debian cross gcc for others.
func compilerCommand(arch string) string {
	if arch == runtime.GOARCH {
		if cc := os.Getenv("CC"); cc != "" {
			return cc
		}
		return "cc"
	}
	return crossPrefix[arch] + "gcc"
}

// toolchains finds and remembers the tools of one plan.
type toolchains struct {
	o         *options
	compilers map[string]*Compiler
	errs      map[string]error
}

func newToolchains(o *options) *toolchains {
	return &toolchains{o: o, compilers: map[string]*Compiler{}, errs: map[string]error{}}
}

// compiler is the C compiler for arch, found once.
func (t *toolchains) compiler(ctx context.Context, arch string) (*Compiler, error) {
	if cc, ok := t.compilers[arch]; ok {
		return cc, t.errs[arch]
	}
	path := t.o.compilers[arch]
	if path == "" {
		path = compilerCommand(arch)
	}
	var cc *Compiler
	var err error
	if _, lerr := exec.LookPath(path); lerr != nil {
		err = fmt.Errorf("%w: no C compiler for %s on this machine (looked for %s)", ErrNoCompiler, arch, path)
	} else {
		var c Compiler
		if c, err = DetectCompiler(ctx, path); err == nil {
			cc = &c
		}
	}
	t.compilers[arch], t.errs[arch] = cc, err
	return cc, err
}

// Tool names of the GPU toolchains.
const (
	ToolNVCC  = "nvcc"
	ToolHIPCC = "hipcc"
)

// toolFallback is where the toolkits install their compilers.
var toolFallback = map[string]string{
	ToolNVCC:  "/usr/local/cuda/bin/nvcc",
	ToolHIPCC: "/opt/rocm/bin/hipcc",
}

// tool finds the GPU compiler name: WithTool's path, then PATH, then the
// toolkit's usual place.
func (t *toolchains) tool(name string) (string, error) {
	if p := t.o.tools[name]; p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("%w: %s %s: %w", ErrNoCompiler, name, p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if _, err := os.Stat(toolFallback[name]); err == nil {
		return toolFallback[name], nil
	}
	return "", fmt.Errorf("%w: no %s on this machine (not on PATH, not at %s)", ErrNoCompiler, name, toolFallback[name])
}

var nvccRelease = lazyre.New(`release ([0-9]+\.[0-9]+)`)

// NVCCRelease reads the toolkit version (12.4) from nvcc --version.
func NVCCRelease(out []byte) (string, bool) {
	m := nvccRelease.FindSubmatch(out)
	if m == nil {
		return "", false
	}
	return string(m[1]), true
}

// nvcc finds nvcc, of version want when it is not empty.
func (t *toolchains) nvcc(ctx context.Context, want string) (string, error) {
	path, err := t.tool(ToolNVCC)
	if err != nil || want == "" {
		return path, err
	}
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%w: running %s --version: %w", ErrNoCompiler, path, err)
	}
	got, ok := NVCCRelease(out)
	if !ok {
		return "", fmt.Errorf("%w: %s --version names no release: %s", ErrNoCompiler, path, firstLine(out))
	}
	if got != want {
		return "", fmt.Errorf("%w: %s is CUDA %s, the value wants %s", ErrNoCompiler, path, got, want)
	}
	return path, nil
}
