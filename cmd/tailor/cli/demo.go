package cli

import (
	"errors"
	"log/slog"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/demo"
)

func init() { register(newDemoCommand) }

func newDemoCommand() *cobra.Command {
	o := demo.Defaults()
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "The whole loop on this machine: build, publish, serve, resolve, pull and run the example",
		Long: `Start tailor serve (its embedded registry, in a temporary directory, clients
without a profile tailored for this host), build the forces example
(examples/forces, an all-pairs Lennard-Jones loop in C) for the levels of
this architecture (x86_64 ... x86_64_v4) and for named microarchitectures of
this host's lineage (its own target, then the most specific ancestor of each
level that the C compiler knows: icelake, skylake, ivybridge, core2 on an
Ice Lake), and push them as one index. Then resolve the tag for this host
with tailor's client, pull it as a stock client does (no profile: serve's
tailored view) and check both name the same entry; show what serve gives
other hosts; run the generic, the best level and the tailored binary side
by side, check they compute the same result, and print the speedup in CPU
time (user+sys of each run, rusage: steady on a busy machine) with wall time
beside it. Output the demo cannot read, or results that disagree, fail it.
Needs a C compiler (cc or $CC); nothing else.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Runs < 1 || o.Size < 2 || o.Steps < 1 || o.Jobs < 1 {
				return usageError(errors.New("--runs, --steps and --jobs must be at least 1, --size at least 2"))
			}
			o.Logger = slog.Default()
			_, err := demo.Run(cmd.Context(), cmd.OutOrStdout(), o)
			return err
		},
	}
	cmd.Flags().IntVar(&o.Runs, "runs", o.Runs, "runs of each binary (the median counts)")
	cmd.Flags().IntVar(&o.Size, "size", o.Size, "particles of the example")
	cmd.Flags().IntVar(&o.Steps, "steps", o.Steps, "steps of the example")
	cmd.Flags().IntVarP(&o.Jobs, "jobs", "j", o.Jobs, "targets built at once")
	cmd.Flags().BoolVar(&o.Keep, "keep", false, "keep the temporary directory (server storage, logs, binaries)")
	return cmd
}
