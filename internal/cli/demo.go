package cli

import (
	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/demo"
)

func init() { register(newDemoCommand) }

func newDemoCommand() *cobra.Command {
	o := demo.Defaults()
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "The whole loop on this machine: build, publish, resolve, pull and run the example",
		Long: `Start an embedded registry in a temporary directory, build the forces example
(examples/forces, an all-pairs Lennard-Jones loop in C) for every x86-64
level this machine's C compiler can target, push the images as one index,
resolve it for this host, pull the chosen entry and the generic one, and
run both side by side: prints which entry this host got and the median
speedup. Needs a C compiler (cc or $CC); nothing else.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := demo.Run(cmd.Context(), cmd.OutOrStdout(), o)
			return err
		},
	}
	cmd.Flags().IntVar(&o.Runs, "runs", o.Runs, "runs of each binary (the median counts)")
	cmd.Flags().IntVar(&o.Size, "size", o.Size, "particles of the example")
	cmd.Flags().IntVar(&o.Steps, "steps", o.Steps, "steps of the example")
	cmd.Flags().IntVarP(&o.Jobs, "jobs", "j", o.Jobs, "targets built at once")
	cmd.Flags().BoolVar(&o.Keep, "keep", false, "keep the temporary directory (registry storage, logs, binaries)")
	return cmd
}
