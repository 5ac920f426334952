// Package cli holds tailor's cobra commands, one verb per file. Each
// command parses its flags, calls one library function and writes to the
// command's output; exit codes are decided in one place (exit.go).
package cli

import (
	"context"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	verbose bool
}

// New returns the root command with every subcommand attached.
func New() *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "tailor",
		Short: "Run the container build that fits each machine's CPU and GPU best",
		Long: `tailor picks, builds, publishes and serves container images tailored to
CPU microarchitectures (haswell, skylake_avx512, zen4, neoverse_v2, ...) and
GPUs, all under one tag, as a plain OCI image index.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       readBuildInfo().Version,
	}
	root.SetVersionTemplate("tailor {{.Version}}\n")
	root.PersistentFlags().BoolVarP(&g.verbose, "verbose", "v", false, "log what tailor does to stderr")
	root.PersistentPreRun = func(cmd *cobra.Command, _ []string) {
		level := slog.LevelWarn
		if g.verbose {
			level = slog.LevelDebug
		}
		// A terminal needs no timestamps: the lines come as they happen.
		noTime := func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}
		slog.SetDefault(slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level, ReplaceAttr: noTime})))
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	for _, add := range commands {
		root.AddCommand(add())
	}
	return root
}

// commands is filled by each verb's file in its init, so adding a verb
// touches only its own file.
var commands []func() *cobra.Command

func register(c func() *cobra.Command) { commands = append(commands, c) }

// Execute runs tailor with args and returns the process exit code.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := New()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	return report(err, stderr)
}
