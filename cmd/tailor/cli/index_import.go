package cli

import (
	"fmt"
	"log/slog"
	"regexp"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/publish"
)

type indexImportOptions struct {
	from     string
	metahub  string
	match    string
	dryRun   bool
	registry registryFlags
}

func newIndexImportCommand() *cobra.Command {
	o := &indexImportOptions{}
	cmd := &cobra.Command{
		Use:   "import [REF] (--from REPO | --metahub manifest.yml)",
		Short: "Turn tag conventions or a MetaHub manifest.yml into one index",
		Long: `With --from, read the tags of REPO and turn the conventions
  generic, cpu-<target>, cpu_<target>-nvcap_<NN>, <tag>-x86-64-v<N>
into one index at REF, printing what was recognised and what was skipped.
With --metahub, read a manifest-tool / MetaHub manifest.yml (image:,
manifests: with platform.features such as cpu:skylake, nvcap:5.2); REF
defaults to its image:.`,
		Example: `  tailor index import reg/app:latest --from reg/app
  tailor index import --metahub manifest.yml --dry-run`,
		Args: cobra.MaximumNArgs(1),
		RunE: o.registry.bounded(func(cmd *cobra.Command, args []string) error { return runIndexImport(cmd, args, o) }),
	}
	cmd.Flags().StringVar(&o.from, "from", "", "repository whose tags to import")
	cmd.Flags().StringVar(&o.metahub, "metahub", "", "MetaHub / manifest-tool manifest.yml to import")
	cmd.Flags().StringVar(&o.match, "match", "", "import only tags matching this regular expression")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print the index that would be pushed, push nothing")
	o.registry.add(cmd.Flags())
	o.registry.boundTransfers(cmd.Flags(), "bound on the whole command, image copies included; 0: none")
	cmd.MarkFlagsMutuallyExclusive("from", "metahub")
	cmd.MarkFlagsOneRequired("from", "metahub")
	return cmd
}

func runIndexImport(cmd *cobra.Command, args []string, o *indexImportOptions) error {
	if o.metahub != "" {
		return runImportMetaHub(cmd, args, o)
	}
	if len(args) == 0 {
		return usageError(fmt.Errorf("index import --from needs REF, the tag to push the index to"))
	}
	var re *regexp.Regexp
	if o.match != "" {
		var err error
		if re, err = regexp.Compile(o.match); err != nil {
			return usageError(fmt.Errorf("--match %q: %w", o.match, err))
		}
	}
	popts, err := publishOptions(cmd, &o.registry)
	if err != nil {
		return err
	}
	sources, verdicts, err := publish.ImportTags(cmd.Context(), o.from, re, popts...)
	if err != nil {
		return err
	}
	errw := cmd.ErrOrStderr()
	for _, v := range verdicts {
		if v.Recognised {
			fmt.Fprintf(errw, "recognised %-28s %s\n", v.Tag, v.Requirements)
		} else {
			fmt.Fprintf(errw, "skipped    %-28s %s\n", v.Tag, v.Reason)
		}
	}
	if len(sources) == 0 {
		return fmt.Errorf("no tag of %q follows a known convention", o.from)
	}
	if len(sources) == 1 {
		slog.Warn("only one tag follows a known convention: the index has a single entry, nothing to choose from; see the skipped tags above",
			"repository", o.from, "tags", len(verdicts))
	}
	return buildAndPush(cmd, args[0], sources, o.dryRun, popts)
}

func runImportMetaHub(cmd *cobra.Command, args []string, o *indexImportOptions) error {
	m, err := publish.ReadMetaHub(o.metahub)
	if err != nil {
		return usageError(err)
	}
	ref := m.Image
	if len(args) == 1 {
		ref = args[0]
	}
	if ref == "" {
		return usageError(fmt.Errorf("%s has no image: and no REF was given", o.metahub))
	}
	popts, err := publishOptions(cmd, &o.registry)
	if err != nil {
		return err
	}
	sources, err := publish.ImportMetaHub(cmd.Context(), m, popts...)
	if err != nil {
		return publishError(err)
	}
	return buildAndPush(cmd, ref, sources, o.dryRun, popts)
}
