package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/resolve"
)

func init() { register(newRunCommand) }

// engines are the container engines run looks for, in order.
var engines = []string{"docker", "podman", "nerdctl"}

type runOptions struct {
	matchFlags
	registry registryFlags
	engine   string
	runArgs  []string
	keep     bool
	dryRun   bool
	noGPUs   bool
}

func newRunCommand() *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run REF [-- ARGS...]",
		Short: "Run the image that fits this host best with docker, podman or nerdctl, pinned by digest",
		Long: `run resolves REF for this host (or --profile) and runs
ENGINE run --rm [GPU options] [--run-arg ...] REPO@sha256:DIGEST [ARGS...]
with the engine's stdin, stdout and stderr; its exit status is run's.

A build for NVIDIA GPUs (CUDA code) gets the host's GPUs: --gpus all with
docker and nerdctl, the CDI device nvidia.com/gpu=all with podman (the
NVIDIA Container Toolkit must be installed). A ROCm build gets /dev/kfd and
/dev/dri. --no-gpus, or a --run-arg that already passes --gpus or --device,
leaves that to you.`,
		Example: `  tailor run localhost:5000/app:1 -- --threads 8
  tailor run app:1 --engine podman --run-arg=-it --run-arg=-v=/data:/data
  tailor run app:1 --dry-run`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if n := cmd.ArgsLenAtDash(); n == 0 {
				return usageError(errors.New("REF must come before --"))
			}
			return runRun(cmd, args[0], args[1:], o)
		},
	}
	o.matchFlags.add(cmd.Flags())
	o.registry.add(cmd.Flags())
	cmd.Flags().StringVar(&o.engine, "engine", "", "container engine: docker, podman or nerdctl (default: the first on PATH)")
	cmd.Flags().StringArrayVar(&o.runArgs, "run-arg", nil, "option passed to ENGINE run before the image (repeatable)")
	cmd.Flags().BoolVar(&o.keep, "keep", false, "keep the container (no --rm)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print the command, run nothing")
	cmd.Flags().BoolVar(&o.noGPUs, "no-gpus", false, "pass no GPU to a GPU build")
	return cmd
}

func runRun(cmd *cobra.Command, ref string, args []string, o *runOptions) error {
	engine, path, err := findEngine(o.engine, o.dryRun)
	if err != nil {
		return err
	}
	p, c, err := o.matchFlags.setup(cmd, &o.registry, ref)
	if err != nil {
		return err
	}
	res, err := resolve.Resolve(cmd.Context(), c, ref, p, o.options()...)
	if err != nil {
		return registryError(err)
	}
	argv := []string{engine, "run"}
	if !o.keep {
		argv = append(argv, "--rm")
	}
	if ref, err := c.ParseReference(res.Reference); err == nil && ref.Context().Registry.Scheme() == "http" {
		argv = append(argv, plainHTTPArgs(engine)...)
	}
	if !o.noGPUs {
		argv = append(argv, gpuArgs(engine, res.Chosen.Reqs, o.runArgs)...)
	}
	argv = append(append(append(argv, o.runArgs...), res.Reference), args...)
	if o.dryRun {
		_, err := fmt.Fprintln(cmd.OutOrStdout(), shellQuote(argv))
		return err
	}
	return execEngine(cmd, path, argv)
}

// plainHTTPArgs tell engine that the registry tailor reached over plain
// HTTP (loopback, a private address, --insecure-registry) is to be pulled
// from so too: podman and nerdctl insist on HTTPS otherwise. dockerd
// decides by its own insecure-registries (127.0.0.0/8 is in by default).
func plainHTTPArgs(engine string) []string {
	switch engine {
	case "podman":
		return []string{"--tls-verify=false"}
	case "nerdctl":
		return []string{"--insecure-registry"}
	}
	return nil
}

// gpuArgs are the engine options that give a GPU build the host's GPUs,
// unless runArgs already pass devices.
func gpuArgs(engine string, r requirement.Requirements, runArgs []string) []string {
	for _, a := range runArgs {
		if strings.HasPrefix(a, "--gpus") || strings.HasPrefix(a, "--device") {
			return nil
		}
	}
	var out []string
	if len(r.CUDA) > 0 {
		if engine == "podman" {
			out = append(out, "--device", "nvidia.com/gpu=all")
		} else {
			out = append(out, "--gpus", "all")
		}
	}
	if len(r.ROCm) > 0 {
		out = append(out, "--device", "/dev/kfd", "--device", "/dev/dri")
	}
	return out
}

// findEngine returns the engine's name and path: the one asked for (a
// name of engines, or a path to one), or the first of engines on PATH. A
// dry run needs none installed.
func findEngine(asked string, dryRun bool) (string, string, error) {
	if asked != "" {
		name := filepath.Base(asked)
		if !slices.Contains(engines, name) {
			return "", "", usageError(fmt.Errorf("--engine %q: tailor runs %s (or a path to one of them)", asked, strings.Join(engines, ", ")))
		}
		path, err := exec.LookPath(asked)
		if err != nil && !dryRun {
			return "", "", usageError(fmt.Errorf("--engine %s: %w", asked, err))
		}
		return name, path, nil
	}
	for _, e := range engines {
		if path, err := exec.LookPath(e); err == nil {
			return e, path, nil
		}
	}
	if dryRun {
		return engines[0], "", nil
	}
	return "", "", fmt.Errorf("no container engine on PATH (looked for %s); give --engine", strings.Join(engines, ", "))
}

// execEngine runs the engine with tailor's stdio; its exit status becomes
// tailor's. Signals from the terminal reach it directly (same process group).
func execEngine(cmd *cobra.Command, path string, argv []string) error {
	c := exec.Command(path, argv[1:]...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, cmd.OutOrStdout(), cmd.ErrOrStderr()
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() > 0 {
		return &exitError{code: ee.ExitCode(), err: fmt.Errorf("%s exited with status %d", argv[0], ee.ExitCode())}
	}
	if err != nil {
		return fmt.Errorf("run %s: %w", argv[0], err)
	}
	return nil
}

// shellQuote formats argv for a POSIX shell.
func shellQuote(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}
