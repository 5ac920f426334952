package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/resolve"
)

func init() { register(newResolveCommand) }

// matchFlags are the host policy flags of resolve, pull and run.
type matchFlags struct {
	profile       string
	prefer, avoid []string
}

func (m *matchFlags) add(f *pflag.FlagSet) {
	f.StringVar(&m.profile, "profile", "", profileFlagUsage)
	f.StringSliceVar(&m.prefer, "prefer", nil, "rank builds for these targets or CPU features first (policy)")
	f.StringSliceVar(&m.avoid, "avoid", nil, "rank builds for these targets or CPU features last (e.g. avx512f)")
}

// setup checks ref and the flags, then loads the profile of --profile and
// the registry client of r: what every command that resolves a reference
// needs first. Input is checked before the host is detected, so bad input
// is one line, whatever detection has to say.
func (m *matchFlags) setup(cmd *cobra.Command, r *registryFlags, ref string) (*profile.Profile, *remote.Client, error) {
	if err := match.CheckOptions(match.WithPrefer(m.prefer...), match.WithAvoid(m.avoid...)); err != nil {
		return nil, nil, usageError(err)
	}
	c, err := r.client()
	if err != nil {
		return nil, nil, err
	}
	if err := checkRef(c, ref); err != nil {
		return nil, nil, usageError(err)
	}
	p, err := loadProfile(cmd.Context(), m.profile)
	if err != nil {
		return nil, nil, err
	}
	return p, c, nil
}

// checkRef parses ref as an image reference or an OCI layout reference.
func checkRef(c *remote.Client, ref string) error {
	if remote.IsLayout(ref) {
		_, err := remote.ParseLayoutRef(ref)
		return err
	}
	_, err := c.ParseReference(ref)
	return err
}

func (m *matchFlags) options() []resolve.Option {
	return []resolve.Option{resolve.WithMatch(match.WithPrefer(m.prefer...), match.WithAvoid(m.avoid...))}
}

type resolveOptions struct {
	matchFlags
	registry registryFlags
	explain  bool
	output   string
}

func newResolveCommand() *cobra.Command {
	o := &resolveOptions{}
	cmd := &cobra.Command{
		Use:   "resolve REF",
		Short: "Print REPO@sha256:... of the index entry that fits this host (or --profile) best",
		Long: `resolve fetches REF's manifest once and chooses the entry of the index that
runs best on the host: stdout is exactly REPO@sha256:DIGEST, for scripts:

  docker run $(tailor resolve app:1)

REF by the digest of an index resolves within it; REF naming a single image
resolves to itself once its platform is checked. --explain prints every
entry's verdict as a table, the chosen reference on the last line; -o json
gives the same as data. No fitting entry: exit status 1, with every entry's
reason on stderr.`,
		Example: `  tailor resolve localhost:5000/app:1
  tailor resolve ghcr.io/org/app:1 --profile cpu=zen4,gpu=9.0,driver=550.54.14 --explain
  tailor resolve app:1 --profile profile.json -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runResolve(cmd, args[0], o) },
	}
	o.matchFlags.add(cmd.Flags())
	o.registry.add(cmd.Flags())
	cmd.Flags().BoolVar(&o.explain, "explain", false, "print every entry's requirements, verdict and rank")
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	return cmd
}

func runResolve(cmd *cobra.Command, ref string, o *resolveOptions) error {
	if o.output != "text" && o.output != "json" {
		return usageError(fmt.Errorf("-o %q: want text or json", o.output))
	}
	p, c, err := o.matchFlags.setup(cmd, &o.registry, ref)
	if err != nil {
		return err
	}
	// One resolution, then the process ends: collecting while the index
	// is parsed is wasted work (a 10,000-entry index: 15% of the CPU).
	// The heap may grow to 9x what is live before the first collection.
	debug.SetGCPercent(800)
	res, err := resolve.Resolve(cmd.Context(), c, ref, p, o.options()...)
	var nm *match.NoMatchError
	if err != nil && !errors.As(err, &nm) {
		return registryError(err)
	}
	out := cmd.OutOrStdout()
	switch {
	case o.output == "json":
		if werr := writeResolveJSON(out, res, nm, p); werr != nil {
			return werr
		}
	case o.explain:
		if werr := writeExplain(out, res, nm); werr != nil {
			return werr
		}
	case res != nil:
		_, err = fmt.Fprintln(out, res.Reference)
	}
	return err
}

// resolveJSON is resolve's -o json document.
type resolveJSON struct {
	Reference  string            `json:"reference,omitempty"`
	Digest     string            `json:"digest,omitempty"`
	Index      *v1.Hash          `json:"index,omitempty"`
	Platform   *v1.Platform      `json:"platform,omitempty"`
	Profile    *profile.Profile  `json:"profile"`
	Candidates []match.Candidate `json:"candidates"`
}

func writeResolveJSON(w io.Writer, res *resolve.Result, nm *match.NoMatchError, p *profile.Profile) error {
	doc := resolveJSON{Profile: p}
	if res != nil {
		doc.Reference, doc.Digest, doc.Index = res.Reference, res.Digest.String(), res.Index
		doc.Platform, doc.Candidates = res.Platform, res.Candidates
	} else if nm != nil {
		doc.Candidates = nm.Candidates
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// writeExplain prints the verdict table, then the chosen reference.
func writeExplain(w io.Writer, res *resolve.Result, nm *match.NoMatchError) error {
	cands := []match.Candidate(nil)
	if res != nil {
		cands = res.Candidates
	} else if nm != nil {
		cands = nm.Candidates
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RANK\tENTRY\tDIGEST\tPLATFORM\tREQUIREMENTS\tVERDICT")
	for _, c := range cands {
		rank := "-"
		if c.Fits {
			rank = fmt.Sprint(c.Rank)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", rank, c.Index, shortDigest(c.Descriptor.Digest), platformString(c.Descriptor.Platform), c.Reqs, verdict(c))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if res != nil {
		_, err := fmt.Fprintf(w, "\n%s\n", res.Reference)
		return err
	}
	return nil
}

func verdict(c match.Candidate) string {
	if c.Fits {
		var assumed []string
		for _, ch := range c.Checks {
			if ch.Assumed {
				assumed = append(assumed, ch.Detail)
			}
		}
		if len(assumed) > 0 {
			return "fits, assuming: " + strings.Join(assumed, "; ")
		}
		return "fits"
	}
	var why []string
	for _, ch := range c.Failed() {
		why = append(why, ch.Detail)
	}
	return "does not fit: " + strings.Join(why, "; ")
}

// shortDigest is sha256: and the first 12 hex digits.
func shortDigest(h v1.Hash) string {
	if len(h.Hex) > 12 {
		return h.Algorithm + ":" + h.Hex[:12]
	}
	return h.String()
}

func platformString(p *v1.Platform) string {
	if p == nil {
		return "-"
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
