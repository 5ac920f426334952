package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/publish"
	"github.com/tailor-dev/tailor/requirement"
)

func init() { register(newIndexCommand) }

func newIndexCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "index",
		Short: "Publish tailor indexes: create, import tag conventions, annotate entries",
	}
	cmd.AddCommand(newIndexCreateCommand(), newIndexImportCommand(), newIndexAnnotateCommand())
	return cmd
}

type indexCreateOptions struct {
	entries  []string
	dryRun   bool
	registry registryFlags
}

func newIndexCreateCommand() *cobra.Command {
	o := &indexCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create REF|oci:DIR[:TAG] --entry IMAGE[=REQS] ...",
		Short: "Build an index of images with their requirements and push it to REF",
		Long: `Build a spec-valid OCI index from images, generic entry first, each entry's
platform taken from its image config and its requirements written as
dev.tailor.* annotations, and push it to REF. Images in other repositories
are copied into REF's repository first. REF may be an OCI layout,
oci:DIR[:TAG]: the images are written into it and the index listed in its
index.json under TAG (latest by default).

REQS is the short form: cpu=skylake_avx512,features=avx512vnni,
cuda=sm_80+sm_90,cuda-version=12.4,rocm=gfx90a,requires=mpi=openmpi.
An image with no REQS is generic, unless its config names a level variant.`,
		Example: `  tailor index create reg/app:1.0 \
    --entry reg/app:generic \
    --entry reg/app:v3=cpu=x86_64_v3 \
    --entry reg/app:skx=cpu=skylake_avx512,cuda=sm_80+sm_90`,
		Args: cobra.ExactArgs(1),
		RunE: o.registry.bounded(func(cmd *cobra.Command, args []string) error { return runIndexCreate(cmd, args[0], o) }),
	}
	cmd.Flags().StringArrayVarP(&o.entries, "entry", "e", nil, "an image and its requirements, IMAGE[=REQS] (repeatable)")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print the index that would be pushed, push nothing")
	o.registry.add(cmd.Flags())
	o.registry.boundTransfers(cmd.Flags(), "bound on the whole command, image copies included; 0: none")
	_ = cmd.MarkFlagRequired("entry")
	return cmd
}

// parseEntryFlag splits IMAGE[=REQS]; image references hold no '='.
func parseEntryFlag(s string) (string, *requirement.Requirements, error) {
	img, reqs, ok := strings.Cut(s, "=")
	if img == "" {
		return "", nil, fmt.Errorf("--entry %q: want IMAGE[=REQS]", s)
	}
	if !ok {
		return img, nil, nil
	}
	r, err := requirement.ParseShort(reqs)
	if err != nil {
		return "", nil, fmt.Errorf("--entry %q: %w", s, err)
	}
	return img, &r, nil
}

func runIndexCreate(cmd *cobra.Command, ref string, o *indexCreateOptions) error {
	ctx := cmd.Context()
	type spec struct {
		image string
		reqs  *requirement.Requirements
	}
	specs := make([]spec, 0, len(o.entries))
	for _, e := range o.entries {
		img, reqs, err := parseEntryFlag(e)
		if err != nil {
			return usageError(err)
		}
		specs = append(specs, spec{img, reqs})
	}
	popts, err := publishOptions(cmd, &o.registry)
	if err != nil {
		return err
	}
	sources := make([]publish.Source, 0, len(specs))
	for _, s := range specs {
		src, err := publish.Resolve(ctx, s.image, popts...)
		if err != nil {
			return publishError(err)
		}
		if s.reqs != nil {
			src.Requirements = *s.reqs
		}
		sources = append(sources, src)
	}
	return buildAndPush(cmd, ref, sources, o.dryRun, popts)
}

// buildAndPush builds the index of sources and prints it (dry run) or
// pushes it and prints its digest reference.
func buildAndPush(cmd *cobra.Command, ref string, sources []publish.Source, dryRun bool, popts []publish.Option) error {
	idx, err := publish.NewIndex(publish.Entries(sources))
	if err != nil {
		return publishError(err)
	}
	if !hasGeneric(sources) {
		slog.Warn("no entry is generic: a host none of the entries fits gets nothing, and tools that know nothing of tailor pick by platform alone; add a build with no requirements (or place pods with tailor affinity)", "index", ref)
	}
	if dryRun {
		raw, _ := idx.RawManifest()
		_, err := cmd.OutOrStdout().Write(raw)
		return err
	}
	d, err := publish.PushTo(cmd.Context(), ref, idx, sources, popts...)
	if err != nil {
		return registryError(err)
	}
	fmt.Fprintln(cmd.OutOrStdout(), d)
	return nil
}

// publishOptions wires the registry client of the flags into publish.
func publishOptions(cmd *cobra.Command, r *registryFlags) ([]publish.Option, error) {
	c, err := r.client()
	if err != nil {
		return nil, err
	}
	return []publish.Option{
		publish.WithClient(c),
		publish.WithLogger(slog.Default()),
	}, nil
}

// publishError marks the publish errors that mean bad input.
func publishError(err error) error {
	for _, s := range []error{publish.ErrIndistinguishable, publish.ErrInvalidEntry, publish.ErrManifestFile, publish.ErrTailoredIndex} {
		if errors.Is(err, s) {
			return usageError(err)
		}
	}
	return err
}

// hasGeneric reports whether some source needs nothing beyond its
// platform: the entry every host of its architecture can run.
func hasGeneric(sources []publish.Source) bool {
	for _, s := range sources {
		if s.Requirements.IsGeneric() {
			return true
		}
	}
	return false
}
