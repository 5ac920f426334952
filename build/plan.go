package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/requirement"
)

// ErrNoCompiler is returned (wrapped) when no local compiler can build for
// a target: none for its architecture, or one too old to know it.
var ErrNoCompiler = errors.New("no compiler for target")

// Compiler is a C compiler found on this machine.
type Compiler struct {
	// Path is the command (cc, gcc, aarch64-linux-gnu-gcc).
	Path string
	// Kind is the catalog's compiler name: gcc or clang.
	Kind string
	// Version is its full version, 12.2.0.
	Version string
}

var clangVersion = regexp.MustCompile(`clang version ([0-9]+(?:\.[0-9]+)*)`)

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

// Job is one target of the matrix, ready to build.
type Job struct {
	Spec TargetSpec
	// Label names the build: x86_64_v3, x86_64_v3+sm_80.
	Label        string
	Target       *catalog.Target
	Requirements requirement.Requirements
	Compiler     Compiler
	// Flags are the compiler flags for Target.
	Flags string
	// Env is what the build command gets on top of the environment
	// (TAILOR_OUT is added per run).
	Env []string
}

// Skipped is an optional target that cannot be built here.
type Skipped struct {
	Spec   TargetSpec
	Reason string
}

// Plan resolves c's targets into jobs: catalog lookups, "host", the
// compiler for each architecture and its flags. A target that cannot be
// built is an error unless it is optional, then it is skipped.
func Plan(ctx context.Context, c *Config, opts ...Option) ([]Job, []Skipped, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, nil, err
	}
	return o.plan(ctx, c)
}

func (o *options) plan(ctx context.Context, c *Config) ([]Job, []Skipped, error) {
	compilers := map[string]*Compiler{}
	var jobs []Job
	var skipped []Skipped
	labels := map[string]bool{}
	for _, spec := range c.Targets {
		job, err := o.job(ctx, c, spec, compilers)
		if err != nil {
			if spec.Optional && errors.Is(err, ErrNoCompiler) {
				skipped = append(skipped, Skipped{Spec: spec, Reason: err.Error()})
				continue
			}
			return nil, nil, err
		}
		if labels[job.Label] {
			return nil, nil, fmt.Errorf("%w: target %s is listed twice", ErrConfig, job.Label)
		}
		labels[job.Label] = true
		jobs = append(jobs, job)
	}
	if len(jobs) == 0 {
		return nil, skipped, fmt.Errorf("%w: none of the targets can be built here", ErrNoCompiler)
	}
	return jobs, skipped, nil
}

func (o *options) job(ctx context.Context, c *Config, spec TargetSpec, compilers map[string]*Compiler) (Job, error) {
	t, err := o.lookupTarget(ctx, spec.CPU)
	if err != nil {
		return Job{}, fmt.Errorf("%w: target %q: %w", ErrConfig, spec.String(), err)
	}
	r := requirement.Requirements{Target: t.Name(), Source: requirement.SourceShort}
	if spec.CUDA != "" {
		for _, s := range strings.FieldsFunc(spec.CUDA, func(r rune) bool { return r == '+' || r == ',' || r == ' ' }) {
			a, err := requirement.ParseCUDAArch(s)
			if err != nil {
				return Job{}, fmt.Errorf("%w: target %q: %w", ErrConfig, spec.String(), err)
			}
			r.CUDA = append(r.CUDA, a)
		}
	}
	cc, err := o.compilerFor(ctx, t.Architecture(), compilers)
	if err != nil {
		return Job{}, fmt.Errorf("target %s: %w", t.Name(), err)
	}
	flags, err := t.CompilerFlags(cc.Kind, cc.Version)
	if err != nil {
		return Job{}, fmt.Errorf("%w: target %s: %s %s: %w", ErrNoCompiler, t.Name(), cc.Path, cc.Version, err)
	}
	label := t.Name()
	if spec.CUDA != "" {
		label += "+" + strings.ReplaceAll(spec.CUDA, ",", "+")
	}
	job := Job{Spec: spec, Label: label, Target: t, Requirements: r, Compiler: *cc, Flags: flags}
	job.Env = Env(job, c.Env)
	return job, nil
}

func (o *options) lookupTarget(ctx context.Context, name string) (*catalog.Target, error) {
	switch name {
	case "host":
		if o.hostTarget == nil {
			return nil, errors.New("target host needs host detection, which this build was not given")
		}
		n, err := o.hostTarget(ctx)
		if err != nil {
			return nil, fmt.Errorf("detecting the host target: %w", err)
		}
		return catalog.Lookup(n)
	case "":
		fam, _ := catalog.FamilyOf(runtime.GOARCH)
		return catalog.Lookup(fam)
	}
	return catalog.Lookup(name)
}

func (o *options) compilerFor(ctx context.Context, arch string, cache map[string]*Compiler) (*Compiler, error) {
	if cc, ok := cache[arch]; ok {
		if cc == nil {
			return nil, fmt.Errorf("%w: no C compiler for %s on this machine", ErrNoCompiler, arch)
		}
		return cc, nil
	}
	path := o.compilers[arch]
	if path == "" {
		path = compilerCommand(arch)
	}
	if _, err := exec.LookPath(path); err != nil {
		cache[arch] = nil
		return nil, fmt.Errorf("%w: no C compiler for %s on this machine (looked for %s)", ErrNoCompiler, arch, path)
	}
	cc, err := DetectCompiler(ctx, path)
	if err != nil {
		cache[arch] = nil
		return nil, err
	}
	cache[arch] = &cc
	return &cc, nil
}

// Env is the environment a job's build command gets: CC, CFLAGS and
// CXXFLAGS from the catalog, GOOS/GOARCH with GOAMD64 or GOARM64,
// TAILOR_TARGET, CUDA_ARCH for CUDA targets, then the config's extra
// variables. Sorted by the order written here, deterministic.
func Env(j Job, extra map[string]string) []string {
	arch := j.Target.Architecture()
	env := []string{
		"CC=" + j.Compiler.Path,
		"CFLAGS=" + j.Flags,
		"CXXFLAGS=" + j.Flags,
		"TAILOR_TARGET=" + j.Target.Name(),
		"GOOS=linux",
		"GOARCH=" + arch,
	}
	switch arch {
	case "amd64":
		env = append(env, fmt.Sprintf("GOAMD64=v%d", max(j.Target.Level(), 1)))
	case "arm64":
		v := j.Target.Variant()
		if !strings.Contains(v, ".") {
			v += ".0"
		}
		env = append(env, "GOARM64="+v)
	}
	if len(j.Requirements.CUDA) > 0 {
		var archs []string
		for _, a := range j.Requirements.CUDA {
			archs = append(archs, a.String())
		}
		env = append(env, "CUDA_ARCH="+strings.Join(archs, ","))
	}
	for _, k := range sortedKeys(extra) {
		env = append(env, k+"="+extra[k])
	}
	return env
}
