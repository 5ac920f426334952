package cli

import (
	"context"
	"errors"
	"fmt"
	"github.com/tailor-dev/tailor/remote"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/build"
	"github.com/tailor-dev/tailor/detect"
)

func init() { register(newBuildCommand) }

type buildOptions struct {
	file     string
	jobs     int
	dest     string
	logDir   string
	emitBake bool
	registry registryFlags
}

func newBuildCommand() *cobra.Command {
	o := &buildOptions{}
	cmd := &cobra.Command{
		Use:   "build [-f tailor.yaml] [--dest REF|oci:DIR]",
		Short: "Build a matrix of targets, one image each, and the index (no Docker engine)",
		Long: `Build the software of a tailor.yaml once per target: the command runs with the
target's compiler flags in its environment (CC, CFLAGS, CXXFLAGS, GOAMD64 or
GOARM64, TAILOR_TARGET, CUDA_ARCH, TAILOR_OUT), the output directory is
packed as a layer on the base image, and the images and their index are
pushed to --dest (default: the file's image:) or written to an OCI layout
(--dest oci:DIR). Nothing is pushed unless every target built.

The base image is fetched, and the images pushed, as the registry flags
say: --insecure-registry for plain HTTP, --retries, and --timeout bounding
each call (the base image's manifest and config, each image's push, the
index's push; default 30m).

--emit-bake prints a docker buildx bake file of the same matrix instead.`,
		Example: `  tailor build -f examples/forces/tailor.yaml --dest oci:/tmp/forces -j2
  tailor build -f tailor.yaml --dest registry.example/app:1.0
  tailor build -f tailor.yaml --emit-bake > docker-bake.hcl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBuild(cmd, o) },
	}
	cmd.Flags().StringVarP(&o.file, "file", "f", "tailor.yaml", "the build file")
	cmd.Flags().IntVarP(&o.jobs, "jobs", "j", runtime.NumCPU(), "targets built at once")
	cmd.Flags().StringVar(&o.dest, "dest", "", "where to put the images and index: REF, or oci:DIR (default: the file's image:)")
	cmd.Flags().StringVar(&o.logDir, "log-dir", "", "directory for the per-target logs (default: a new temporary directory)")
	o.registry.add(cmd.Flags())
	o.registry.boundTransfers(cmd.Flags(), "bound on each registry call: the base image's manifest and config, each image's push (layers included), the index's push; 0: none")
	cmd.Flags().BoolVar(&o.emitBake, "emit-bake", false, "print a docker buildx bake file for the matrix, build nothing")
	return cmd
}

func runBuild(cmd *cobra.Command, o *buildOptions) error {
	ctx := cmd.Context()
	cfg, err := build.Load(o.file)
	if err != nil {
		return usageError(err)
	}
	errw := cmd.ErrOrStderr()
	client, err := o.registry.client()
	if err != nil {
		return err
	}
	opts := []build.Option{
		build.WithRemoteOptions(client.Options(ctx)...),
		build.WithReferenceParser(client.ParseReference),
		build.WithTimeout(o.registry.timeout),
		build.WithParallelism(max(o.jobs, 1)),
		build.WithLogDir(o.logDir),
		build.WithHostTarget(hostTargetName),
		build.WithProgress(func(e build.Event) { printBuildEvent(errw, e) }),
	}
	if o.emitBake {
		jobs, skipped, err := build.Plan(ctx, cfg, opts...)
		if err != nil {
			return buildError(err)
		}
		printSkipped(errw, skipped)
		return build.EmitBake(cmd.OutOrStdout(), cfg, jobs, cfg.Image)
	}
	dest := o.dest
	if dest == "" {
		dest = cfg.Image
	}
	if dest == "" {
		return usageError(errors.New("no --dest and no image: in the build file: say where the images go"))
	}
	toLayout := remote.IsLayout(dest)
	var lref remote.LayoutRef
	if toLayout {
		if lref, err = remote.ParseLayoutRef(dest); err != nil || lref.Digest != nil {
			return usageError(fmt.Errorf("--dest %q: want oci:DIR[:TAG]", dest))
		}
		if lref.Tag == "" {
			lref.Tag = layoutRefName(cfg.Image)
		}
	} else {
		if _, err := client.ParseReference(dest); err != nil {
			return usageError(fmt.Errorf("--dest: %w", err))
		}
	}
	start := time.Now()
	res, err := build.Run(ctx, cfg, opts...)
	if err != nil {
		return buildError(err)
	}
	printSkipped(errw, res.Skipped)
	fmt.Fprintf(errw, "built %d targets in %.1fs (logs in %s)\n", len(res.Images), time.Since(start).Seconds(), res.LogDir)
	if toLayout {
		d, err := res.WriteLayout(lref.Path, lref.Tag)
		if err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s@%s\n", lref.Repository(), d.Digest)
		return nil
	}
	d, err := res.Push(ctx, dest)
	if err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), d.String())
	return nil
}

// layoutRefName is the tag of image (latest when it has none).
func layoutRefName(image string) string {
	if t, err := name.NewTag(image); err == nil {
		return t.TagStr()
	}
	return "latest"
}

// hostTargetName is this host's CPU target (no GPU probe: builds name
// CPU targets).
func hostTargetName(ctx context.Context) (string, error) {
	p, err := detect.Host(ctx)
	if err != nil {
		return "", err
	}
	return p.CPU.Microarchitecture, nil
}

func printBuildEvent(w interface{ Write([]byte) (int, error) }, e build.Event) {
	switch e.State {
	case "building":
		fmt.Fprintf(w, "[%d/%d] %-22s building (log %s)\n", e.N, e.Total, e.Label, e.Log)
	case "built":
		fmt.Fprintf(w, "[%d/%d] %-22s built in %.1fs\n", e.N, e.Total, e.Label, e.Elapsed.Seconds())
	case "failed":
		fmt.Fprintf(w, "[%d/%d] %-22s FAILED after %.1fs\n", e.N, e.Total, e.Label, e.Elapsed.Seconds())
		var be *build.BuildError
		if errors.As(e.Err, &be) && be.Tail != "" {
			fmt.Fprintln(w, be.Tail)
		}
	}
}

func printSkipped(w interface{ Write([]byte) (int, error) }, skipped []build.Skipped) {
	for _, s := range skipped {
		fmt.Fprintf(w, "skipped optional target %s: %s\n", s.Spec, s.Reason)
	}
}

// buildError marks the build errors that mean bad input.
func buildError(err error) error {
	if errors.Is(err, build.ErrConfig) {
		return usageError(err)
	}
	return publishError(err)
}
