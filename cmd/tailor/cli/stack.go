package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/stack"
)

func init() { register(newStackCommand) }

func newStackCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stack",
		Short: "Curate a stack built by tailor build: what an update touches",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newStackDiffCommand())
	return cmd
}

type stackDiffOptions struct {
	output   string
	registry registryFlags
}

func newStackDiffCommand() *cobra.Command {
	o := &stackDiffOptions{}
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Which entries two indexes of a stack add or remove, and which components of each entry changed",
		Long: `Compare two indexes of a stack (two builds of one tailor.yaml, say the
published one and a new one) entry by entry. An entry is the same entry in
both when its platform and requirements are. For each entry in both whose
image differs, the components whose layers differ are named (the layers
tailor build made carry their component's name); "config" when only the
image config changed. The exit status is 0 whether or not they differ.`,
		Example: `  tailor stack diff registry.example/numstack:1.0 registry.example/numstack:1.1
  tailor stack diff registry.example/numstack:1.0 registry.example/numstack:1.1 -o json`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.output != "text" && o.output != "json" {
				return usageError(fmt.Errorf("-o %q: want text or json", o.output))
			}
			c, err := o.registry.client()
			if err != nil {
				return err
			}
			d, err := stack.Diff(cmd.Context(), c, args[0], args[1])
			if err != nil {
				return registryError(err)
			}
			return writeOutput(cmd.OutOrStdout(), o.output, d, func(w io.Writer) error {
				_, err := io.WriteString(w, d.String())
				return err
			})
		},
	}
	o.registry.add(cmd.Flags())
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	return cmd
}
