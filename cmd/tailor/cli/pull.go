package cli

import (
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/resolve"
	"golang.org/x/term"
)

func init() { register(newPullCommand) }

type pullOptions struct {
	matchFlags
	registry registryFlags
	dest     string
	quiet    bool
}

func newPullCommand() *cobra.Command {
	o := &pullOptions{}
	cmd := &cobra.Command{
		Use:   "pull REF --dest oci:DIR[:TAG]|docker-archive:FILE[:TAG]",
		Short: "Fetch the image that fits this host (or --profile) best into an OCI layout or a docker archive",
		Long: `pull resolves REF as tailor resolve does and writes the chosen image to
--dest:

  oci:DIR[:TAG]               an OCI image layout, created or added to; TAG
                              names the image in its index.json
  docker-archive:FILE[:TAG]   a tarball for docker load; TAG is its RepoTags
                              entry: a reference (app:1, registry/app:1) or a
                              bare tag put on REF's repository (v1). Without
                              it the archive is tagged REF, or untagged when
                              REF is a digest.

--timeout bounds the whole pull, layers included (default 30m). A pull that fails or times
out leaves --dest as it was: the layout's index.json does not list the
unfinished image, and no archive is written.`,
		Example: `  tailor pull localhost:5000/app:1 --dest oci:./app:1
  tailor pull app:1 --profile cpu=zen4 --dest docker-archive:app.tar && docker load -i app.tar
  tailor pull app@sha256:... --dest docker-archive:app.tar:app:zen4 --timeout 30m`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runPull(cmd, args[0], o) },
	}
	o.matchFlags.add(cmd.Flags())
	o.registry.add(cmd.Flags())
	o.registry.boundTransfers(cmd.Flags(), "bound on the whole pull, layers included; 0: none")
	cmd.Flags().StringVar(&o.dest, "dest", "", "where to write: oci:DIR[:TAG] (an OCI image layout) or docker-archive:FILE[:TAG]")
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "no progress display")
	_ = cmd.MarkFlagRequired("dest")
	return cmd
}

func runPull(cmd *cobra.Command, ref string, o *pullOptions) error {
	if _, err := resolve.ParseDest(o.dest); err != nil {
		return usageError(fmt.Errorf("--dest: %w", err))
	}
	p, c, err := o.matchFlags.setup(cmd, &o.registry, ref)
	if err != nil {
		return err
	}
	var updates chan v1.Update
	done := make(chan struct{})
	if o.quiet {
		close(done)
	} else {
		updates = make(chan v1.Update, 16)
		go func() {
			defer close(done)
			showProgress(cmd.ErrOrStderr(), ref, updates)
		}()
	}
	res, err := resolve.Pull(cmd.Context(), c, ref, p, o.dest, updates, o.options()...)
	<-done
	if err != nil {
		return registryError(err)
	}
	_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s -> %s\n", res.Reference, o.dest)
	return err
}

// showProgress draws updates until the channel closes: one line redrawn in
// place on a terminal, otherwise a plain line at every 10%.
func showProgress(w io.Writer, ref string, updates <-chan v1.Update) {
	tty := isTerminal(w)
	lastDecile, drawn := -1, false
	for u := range updates {
		pct := 100
		if u.Total > 0 {
			pct = int(u.Complete * 100 / u.Total)
		}
		line := fmt.Sprintf("pulling %s: %s / %s (%d%%)", ref, size(u.Complete), size(u.Total), pct)
		switch {
		case tty:
			drawn = true
			fmt.Fprintf(w, "\r\033[K%s", line)
		case pct/10 > lastDecile:
			lastDecile = pct / 10
			fmt.Fprintln(w, line)
		}
	}
	if drawn {
		fmt.Fprintln(w)
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// size formats n bytes for people: 512 B, 3.2 KiB, 41.0 MiB, 1.2 GiB.
func size(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}
