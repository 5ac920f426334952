package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/resolve"
)

func init() { register(newInspectCommand) }

type inspectOptions struct {
	registry registryFlags
	targets  []string
	output   string
}

func newInspectCommand() *cobra.Command {
	o := &inspectOptions{}
	cmd := &cobra.Command{
		Use:   "inspect REF",
		Short: "Show the variant matrix of an index: entries, requirements, which targets get which",
		Example: `  tailor inspect localhost:5000/app:1
  tailor inspect app:1 --targets haswell,zen4,neoverse_v2 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.output != "text" && o.output != "json" {
				return usageError(fmt.Errorf("-o %q: want text or json", o.output))
			}
			c, err := o.registry.client()
			if err != nil {
				return err
			}
			mx, err := resolve.Inspect(cmd.Context(), c, args[0], o.targets)
			if err != nil {
				return inspectError(err)
			}
			if o.output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(mx)
			}
			return writeMatrix(cmd.OutOrStdout(), mx)
		},
	}
	o.registry.add(cmd.Flags())
	cmd.Flags().StringSliceVar(&o.targets, "targets", nil, "targets to show the choice for (default: a spread of x86-64 and arm64 generations)")
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	return cmd
}

// inspectError marks an unknown --targets name as a usage error.
func inspectError(err error) error {
	if exitCode(err) == exitUsage {
		return usageError(err)
	}
	return registryError(err)
}

func writeMatrix(w io.Writer, mx *resolve.Matrix) error {
	fmt.Fprintf(w, "%s\n%s (%s)\n\n", mx.Reference, mx.Digest, mx.MediaType)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTRY\tDIGEST\tPLATFORM\tREQUIREMENTS")
	for _, e := range mx.Entries {
		reqs := "error: " + e.Error
		if e.Requirements != nil {
			reqs = e.Requirements.String()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", e.Index, shortDigest(e.Digest), platformString(e.Platform), reqs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tENTRY\tDIGEST\tREQUIREMENTS")
	for _, a := range mx.Targets {
		if a.Entry == nil {
			fmt.Fprintf(tw, "%s\t-\t-\t(no fitting entry)\n", a.Target)
			continue
		}
		e := mx.Entries[*a.Entry]
		reqs := "-"
		if e.Requirements != nil {
			reqs = e.Requirements.String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", a.Target, *a.Entry, shortDigest(*a.Digest), reqs)
	}
	return tw.Flush()
}
