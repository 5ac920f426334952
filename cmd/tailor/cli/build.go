package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/build"
	"github.com/tailor-dev/tailor/detect"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/stack"
)

func init() { register(newBuildCommand) }

type buildOptions struct {
	file     string
	jobs     int
	dest     string
	logDir   string
	profiles string
	output   string
	plan     bool
	emitBake bool
	verify   bool
	registry registryFlags
}

func newBuildCommand() *cobra.Command {
	o := &buildOptions{}
	cmd := &cobra.Command{
		Use:   "build [-f tailor.yaml] [--dest REF|oci:DIR[:TAG]] [--plan] [--profiles FILE]",
		Short: "Build a matrix of targets, or a stack of components along axes, one image each, and the index (no Docker engine)",
		Long: `Build what a tailor.yaml describes, with no Docker engine: a matrix of
targets (one command, run once per target) or a stack (components in layer
order, each built once per combination of the axes it varies on, its layer
shared by every entry that contains it). Each command runs with its axes in
its environment (CC, AR, CFLAGS, CXXFLAGS, GOAMD64 or GOARM64,
TAILOR_TARGET; CUDA_ARCH, CUDA_GENCODE, CUDA_VERSION, NVCC; ROCM_ARCH, HIPCC;
TAILOR_<AXIS> for a label axis; TAILOR_OUT, TAILOR_ROOT, SOURCE_DATE_EPOCH).
Layers are reproducible: the same inputs give the same digests, dated at
$SOURCE_DATE_EPOCH, by default the time of the last git commit of the build
file's directory (else the build file's modification time), so a rebuild
pushes nothing that did not change. The images and their index are pushed to --dest (default: the
file's image:) or written to an OCI layout (--dest oci:DIR[:TAG], the index
listed under TAG, replacing an entry of that name). Nothing is pushed
unless every build succeeded. Optional values whose toolchain is missing
(a cross compiler, nvcc, hipcc) are skipped, each with a line saying why.

--plan prints the matrix without building: each entry and the build of
each component it takes. After a build, a report says how many layers
are shared and the bytes stored beside the naive sum. -o json prints
either as JSON.

--profiles FILE prunes the matrix to the fleet in FILE (one host per
line: a spec string, a profile JSON file, inline JSON): only the entries
some host would be given are built, plus the generic entry; the rest are
listed.

Logs: one per command build. With --log-dir they are kept there; without
it they are removed after a successful build and kept, and named, after
a failed one.

The base images are fetched, and the images pushed, as the registry
flags say: --insecure-registry for plain HTTP, --retries, and --timeout
bounding each call (a base image's manifest and config, each image's push,
the index's push; default 30m).

Before anything is published, the built images are verified as tailor
verify does: a matrix whose labels lie (a command that ignored the
target's flags) is refused, naming the entries (each entry's run under qemu is
bounded by 2 s: a SIGILL comes early); --verify=false publishes
anyway.

--emit-bake prints a docker buildx bake file of a targets: matrix instead.`,
		Example: `  tailor build -f examples/stack/tailor.yaml --plan
  tailor build -f examples/stack/tailor.yaml --dest oci:/tmp/numstack -j2
  tailor build -f examples/stack/tailor.yaml --profiles fleet.txt --dest registry.example/numstack:1
  tailor build -f examples/forces/tailor.yaml --dest oci:/tmp/forces:1.0
  tailor build -f tailor.yaml --emit-bake > docker-bake.hcl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBuild(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.file, "file", "f", "tailor.yaml", "the build file")
	f.IntVarP(&o.jobs, "jobs", "j", runtime.NumCPU(), "component builds run at once")
	f.StringVar(&o.dest, "dest", "", "where to put the images and index: REF, or oci:DIR[:TAG] (default: the file's image:)")
	f.StringVar(&o.logDir, "log-dir", "", "directory to keep the per-build logs in (default: a temporary one, removed unless a build fails)")
	f.StringVar(&o.profiles, "profiles", "", "fleet file: build only the entries some host in it would be given (one spec string or profile file per line)")
	f.BoolVar(&o.plan, "plan", false, "print the matrix (entries × components → builds), build nothing")
	f.StringVarP(&o.output, "output", "o", "text", "output format of the plan and the report: text or json")
	o.registry.add(f)
	o.registry.boundTransfers(f, "bound on each registry call: a base image's manifest and config, each image's push (layers included), the index's push; 0: none")
	f.BoolVar(&o.emitBake, "emit-bake", false, "print a docker buildx bake file for a targets: matrix, build nothing")
	f.BoolVar(&o.verify, "verify", true, "verify the built images before publishing (tailor verify) and refuse a matrix whose labels lie")
	return cmd
}

func runBuild(cmd *cobra.Command, o *buildOptions) error {
	ctx := cmd.Context()
	if o.output != "text" && o.output != "json" {
		return usageError(fmt.Errorf("-o %q: want text or json", o.output))
	}
	cfg, err := build.Load(o.file)
	if err != nil {
		return usageError(err)
	}
	opts, err := o.buildOptions(cmd)
	if err != nil {
		return err
	}
	dest := o.dest
	if dest == "" {
		dest = cfg.Image
	}
	if !o.plan && !o.emitBake {
		if err := o.checkDest(dest); err != nil {
			return err
		}
	}
	p, err := build.NewPlan(ctx, cfg, opts...)
	if err != nil {
		return buildError(err)
	}
	errw := cmd.ErrOrStderr()
	switch {
	case o.emitBake:
		printSkipped(errw, p.Skipped)
		if remote.IsLayout(dest) && !cfg.IsStack() {
			return usageError(fmt.Errorf("--emit-bake --dest %s: bake pushes its images to a registry; give a registry reference (REPO:TAG)", dest))
		}
		return buildError(build.EmitBake(cmd.OutOrStdout(), cfg, p, dest))
	case o.plan:
		return writeOutput(cmd.OutOrStdout(), o.output, p, p.WriteText)
	}
	printSkipped(errw, p.Skipped)
	start := time.Now()
	res, err := p.Run(ctx)
	if err != nil {
		return buildError(err)
	}
	defer res.Close()
	fmt.Fprintf(errw, "built %d entries (%d builds) in %.1fs%s\n", len(res.Images), len(res.Plan.Matrix.Builds), time.Since(start).Seconds(), logsKept(res.LogDir))
	if o.verify {
		if err := verifyBuilt(ctx, errw, res, o.jobs); err != nil {
			return err
		}
	}
	ref, err := res.Publish(ctx, dest)
	if err != nil {
		return registryError(err)
	}
	if o.output == "json" {
		return writeJSON(cmd.OutOrStdout(), struct {
			Reference string          `json:"reference"`
			Report    build.Report    `json:"report"`
			Skipped   []build.Skipped `json:"skipped,omitempty"`
			Pruning   *stack.Pruning  `json:"pruning,omitempty"`
		}{ref, res.Report, res.Plan.Skipped, res.Plan.Pruning})
	}
	if err := res.Report.WriteText(errw); err != nil {
		return err
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), ref)
	return err
}

// buildOptions are the library options the flags say.
func (o *buildOptions) buildOptions(cmd *cobra.Command) ([]build.Option, error) {
	client, err := o.registry.client()
	if err != nil {
		return nil, err
	}
	errw := cmd.ErrOrStderr()
	opts := []build.Option{
		build.WithClient(client),
		build.WithParallelism(max(o.jobs, 1)),
		build.WithLogDir(o.logDir),
		build.WithHostTarget(hostTargetName),
		build.WithProgress(func(e build.Event) { printBuildEvent(errw, e) }),
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil || sec < 0 {
			return nil, usageError(fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970 (a whole number)", s))
		}
		opts = append(opts, build.WithSourceDateEpoch(time.Unix(sec, 0)))
	} else if t, from := defaultEpoch(cmd.Context(), o.file); !t.IsZero() {
		slog.Debug("images dated", "time", t.UTC(), "from", from)
		opts = append(opts, build.WithSourceDateEpoch(t))
	}
	if o.profiles != "" {
		hosts, err := readFleet(o.profiles)
		if err != nil {
			return nil, usageError(fmt.Errorf("--profiles: %w", err))
		}
		opts = append(opts, build.WithFleet(hosts))
	}
	return opts, nil
}

func readFleet(path string) ([]stack.Host, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hosts, err := stack.ReadFleet(f, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return hosts, nil
}

// checkDest refuses a destination that cannot be written before anything
// is built.
func (o *buildOptions) checkDest(dest string) error {
	if dest == "" {
		return usageError(errors.New("no --dest and no image: in the build file: say where the images go"))
	}
	if remote.IsLayout(dest) {
		if _, err := build.ParseLayoutDest(dest); err != nil {
			return usageError(fmt.Errorf("--dest: %w", err))
		}
		return nil
	}
	client, err := o.registry.client()
	if err != nil {
		return err
	}
	if _, err := client.ParseReference(dest); err != nil {
		return usageError(fmt.Errorf("--dest: %w", err))
	}
	return nil
}

func logsKept(dir string) string {
	if dir == "" {
		return ""
	}
	return " (logs in " + dir + ")"
}

// writeOutput prints v as indented JSON, or as text with text.
func writeOutput(w io.Writer, format string, v any, text func(io.Writer) error) error {
	if format == "json" {
		return writeJSON(w, v)
	}
	return text(w)
}

func hostTargetName(ctx context.Context) (string, error) {
	p, err := detect.Host(ctx)
	if err != nil {
		return "", err
	}
	return p.CPU.Microarchitecture, nil
}

func printBuildEvent(w io.Writer, e build.Event) {
	switch e.State {
	case "building":
		fmt.Fprintf(w, "[%d/%d] %-26s building\n", e.N, e.Total, e.Label)
	case "built":
		fmt.Fprintf(w, "[%d/%d] %-26s built in %.1fs\n", e.N, e.Total, e.Label, e.Elapsed.Seconds())
	case "failed":
		fmt.Fprintf(w, "[%d/%d] %-26s FAILED after %.1fs (log %s)\n", e.N, e.Total, e.Label, e.Elapsed.Seconds(), e.Log)
		var be *build.BuildError
		if errors.As(e.Err, &be) && be.Tail != "" {
			fmt.Fprintln(w, be.Tail)
		}
	}
}

func printSkipped(w io.Writer, skipped []build.Skipped) {
	for _, s := range skipped {
		fmt.Fprintf(w, "skipped optional %s=%s: %s\n", s.Axis, s.Value, s.Reason)
	}
}

// buildError marks the build errors that mean bad input.
func buildError(err error) error {
	if errors.Is(err, build.ErrConfig) || errors.Is(err, build.ErrBakeStack) {
		return usageError(err)
	}
	return registryError(publishError(err))
}

// defaultEpoch is the date of the images when SOURCE_DATE_EPOCH is not
// set: the time of the last git commit of the build file's directory (the
// same on every checkout of that commit, as reproducible builds date
// things), else the build file's modification time (the same for every
// rebuild here), else zero (1970). from says which.
func defaultEpoch(ctx context.Context, file string) (time.Time, string) {
	dir := filepath.Dir(file)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "git", "-C", dir, "log", "-1", "--format=%ct", "--", ".").Output(); err == nil {
		if sec, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && sec > 0 {
			return time.Unix(sec, 0), "the last git commit of " + dir
		}
	}
	if fi, err := os.Stat(file); err == nil {
		return fi.ModTime().Truncate(time.Second), "the modification time of " + file
	}
	return time.Time{}, ""
}
