package cli

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/publish"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/requirement"
)

type indexAnnotateOptions struct {
	entry    string
	tag      string
	dryRun   bool
	registry registryFlags
}

func newIndexAnnotateCommand() *cobra.Command {
	o := &indexAnnotateOptions{}
	cmd := &cobra.Command{
		Use:   "annotate REF|oci:DIR[:TAG] --entry DIGEST REQS",
		Short: "Set the requirements of one entry of an existing index",
		Long: `Fetch the index at REF, replace the requirements of the entry whose digest
starts with DIGEST by REQS (short form; "generic" for none), and push the
corrected index to the same tag (or --tag). The old index stays
retrievable by its digest. Prints the new digest reference.`,
		Example: `  tailor index annotate reg/app:1.0 --entry sha256:4f2a cpu=haswell`,
		Args:    cobra.ExactArgs(2),
		RunE:    o.registry.bounded(func(cmd *cobra.Command, args []string) error { return runIndexAnnotate(cmd, args[0], args[1], o) }),
	}
	cmd.Flags().StringVar(&o.entry, "entry", "", "digest (or unique prefix) of the entry to change")
	cmd.Flags().StringVar(&o.tag, "tag", "", "push the corrected index to this tag instead of REF's")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print the corrected index, push nothing")
	o.registry.add(cmd.Flags())
	o.registry.boundTransfers(cmd.Flags(), "bound on the whole command, image copies included; 0: none")
	_ = cmd.MarkFlagRequired("entry")
	return cmd
}

func runIndexAnnotate(cmd *cobra.Command, ref, reqs string, o *indexAnnotateOptions) error {
	r, err := requirement.ParseShort(reqs)
	if err != nil {
		return usageError(err)
	}
	dst, err := annotateDest(ref, o.tag, o.dryRun)
	if err != nil {
		return usageError(err)
	}
	popts, err := publishOptions(cmd, &o.registry)
	if err != nil {
		return err
	}
	m, _, err := publish.FetchIndex(cmd.Context(), ref, popts...)
	if err != nil {
		return err
	}
	idx, err := publish.Annotate(m, o.entry, r)
	if err != nil {
		return usageError(err)
	}
	if o.dryRun {
		raw, _ := idx.RawManifest()
		_, err := cmd.OutOrStdout().Write(raw)
		return err
	}
	d, err := publish.PushTo(cmd.Context(), dst, idx, nil, popts...)
	if err != nil {
		return registryError(err)
	}
	fmt.Fprintln(cmd.OutOrStdout(), d)
	return nil
}

// annotateDest is where the corrected index of ref goes: ref's tag, or tag
// in ref's repository (or layout). An index named by digest needs a tag.
func annotateDest(ref, tag string, dryRun bool) (string, error) {
	var repo string
	byDigest := false
	if remote.IsLayout(ref) {
		l, err := remote.ParseLayoutRef(ref)
		if err != nil {
			return "", err
		}
		repo, byDigest = l.Repository(), l.Digest != nil
		if tag != "" && !remote.ValidTag(tag) {
			return "", fmt.Errorf("--tag %q is not a valid tag", tag)
		}
	} else {
		parsed, err := name.ParseReference(ref)
		if err != nil {
			return "", fmt.Errorf("parsing reference %q: %w", ref, err)
		}
		_, byDigest = parsed.(name.Digest)
		repo = parsed.Context().String()
		if tag != "" {
			if _, err := name.NewTag(repo + ":" + tag); err != nil {
				return "", fmt.Errorf("--tag %q: %w", tag, err)
			}
		}
	}
	switch {
	case tag != "":
		return repo + ":" + tag, nil
	case byDigest && !dryRun:
		return "", fmt.Errorf("%q names the index by digest: give --tag to push the corrected one to", ref)
	}
	return ref, nil
}
