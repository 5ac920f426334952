package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/fleet"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/nfd"
)

func init() { register(newFleetCommand) }

type fleetOptions struct {
	registry      registryFlags
	nodes         string
	compare       bool
	prefer, avoid []string
	output        string
	explain       bool
}

func newFleetCommand() *cobra.Command {
	o := &fleetOptions{}
	cmd := &cobra.Command{
		Use:   "fleet REF... --nodes FILE|-",
		Short: "Show which build every node of a cluster gets, from its node labels",
		Long: `fleet reads the nodes of a cluster (what "kubectl get nodes -o json" prints,
from FILE or - for stdin), reads each node's host profile back from its labels
("tailor detect -o nfd" written as an NFD feature file; NFD's own cpu-cpuid
labels and kubernetes.io/arch when those are missing) and prints, for each
node and image, the entry it gets: the same one "tailor resolve --profile"
names for that profile.

--compare OLD NEW shows which nodes change build between two versions of an
index: what a rollout of NEW touches.

Exit status 1 when some node gets nothing (of NEW with --compare).`,
		Example: `  kubectl get nodes -o json | tailor fleet registry.example/app:1 --nodes -
  tailor fleet app:1 tools:2 --nodes nodes.json -o json
  tailor fleet --compare app:1 app:2 --nodes nodes.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runFleet(cmd, args, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.nodes, "nodes", "", `nodes as "kubectl get nodes -o json" prints them: a file, or - for stdin (required)`)
	f.BoolVar(&o.compare, "compare", false, "take two references, OLD and NEW, and show which nodes change build")
	f.StringSliceVar(&o.prefer, "prefer", nil, "rank builds for these targets or CPU features first (policy)")
	f.StringSliceVar(&o.avoid, "avoid", nil, "rank builds for these targets or CPU features last (e.g. avx512f)")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	f.BoolVar(&o.explain, "explain", false, "say, per kind of node, what its profile holds that its labels do not state (flags NFD hides, the core its cpu-model names)")
	o.registry.add(f)
	return cmd
}

func runFleet(cmd *cobra.Command, refs []string, o *fleetOptions) error {
	if o.output != "text" && o.output != "json" {
		return usageError(fmt.Errorf("-o %q: want text or json", o.output))
	}
	if o.compare && len(refs) != 2 {
		return usageError(fmt.Errorf("--compare takes two references, OLD and NEW; got %d", len(refs)))
	}
	nodes, err := readNodes(cmd.InOrStdin(), o.nodes)
	if err != nil {
		return err
	}
	c, err := o.registry.client()
	if err != nil {
		return err
	}
	opts := []fleet.Option{fleet.WithMatch(match.WithPrefer(o.prefer...), match.WithAvoid(o.avoid...))}
	out := cmd.OutOrStdout()
	if o.compare {
		changes, err := fleet.Compare(cmd.Context(), c, refs[0], refs[1], nodes, opts...)
		if err != nil {
			return registryError(err)
		}
		if err := writeChanges(out, changes, o.output); err != nil {
			return err
		}
		var news []fleet.Placement
		for _, ch := range changes {
			news = append(news, ch.New)
		}
		return unplaced(news)
	}
	pls, err := fleet.Plan(cmd.Context(), c, refs, nodes, opts...)
	if err != nil {
		return registryError(err)
	}
	if o.output == "json" {
		err = writeJSON(out, pls)
	} else {
		err = writePlacements(out, refs, pls, o.explain)
	}
	if err != nil {
		return err
	}
	return unplaced(pls)
}

// readNodes reads --nodes: a file, or - for stdin.
func readNodes(stdin io.Reader, path string) ([]fleet.Node, error) {
	if path == "" {
		return nil, usageError(fmt.Errorf(`--nodes is required: a file as "kubectl get nodes -o json" writes, or - for stdin`))
	}
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, usageError(fmt.Errorf("--nodes: %w", err))
		}
		defer f.Close()
		r = f
	}
	nodes, err := fleet.ReadNodes(r)
	if err != nil {
		return nil, usageError(fmt.Errorf("--nodes %s: %w", path, err))
	}
	return nodes, nil
}

// unplaced is the exit-1 error when some node gets no build.
func unplaced(pls []fleet.Placement) error {
	var missing []string
	for _, pl := range pls {
		if !pl.Fits() {
			missing = append(missing, pl.Node+" ("+pl.Image+")")
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%d node-image pair(s) get no build: %s", len(missing), strings.Join(missing, ", "))
}

// writePlacements prints a node × image table, then why each node that
// gets nothing does, each node's labels that mean nothing and, with
// explain, what each kind of node's profile holds that its labels do not
// state.
func writePlacements(w io.Writer, refs []string, pls []fleet.Placement, explain bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "NODE\tPROFILE")
	for _, r := range refs {
		fmt.Fprint(tw, "\t"+r)
	}
	fmt.Fprintln(tw)
	var notes []string
	for i := 0; i < len(pls); i += len(refs) {
		row := pls[i : i+len(refs)]
		fmt.Fprintf(tw, "%s\t%s", row[0].Node, profileCell(row[0]))
		for _, wn := range row[0].Warnings {
			notes = append(notes, fmt.Sprintf("%s: %s", row[0].Node, wn))
		}
		for _, pl := range row {
			fmt.Fprint(tw, "\t"+placementCell(pl))
			if !pl.Fits() {
				notes = append(notes, fmt.Sprintf("%s, %s: %s", pl.Node, pl.Image, pl.Why))
			}
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if explain {
		notes = append(notes, inferredNotes(pls, len(refs))...)
	}
	for _, n := range notes {
		if _, err := fmt.Fprintln(w, n); err != nil {
			return err
		}
	}
	return nil
}

// inferredNotes says, once per profile, what was inferred for the nodes
// read as it.
func inferredNotes(pls []fleet.Placement, stride int) []string {
	var order []string
	nodes := map[string][]string{}
	why := map[string][]string{}
	for i := 0; i < len(pls); i += stride {
		pl := pls[i]
		if len(pl.Inferred) == 0 {
			continue
		}
		k := pl.Profile + "\x00" + strings.Join(pl.Inferred, "\x00")
		if _, ok := nodes[k]; !ok {
			order = append(order, k)
			why[k] = pl.Inferred
		}
		nodes[k] = append(nodes[k], pl.Node)
	}
	var out []string
	for _, k := range order {
		ns := nodes[k]
		list := strings.Join(ns[:min(len(ns), 5)], ", ")
		if len(ns) > 5 {
			list += fmt.Sprintf(" and %d more", len(ns)-5)
		}
		prof, _, _ := strings.Cut(k, "\x00")
		out = append(out, fmt.Sprintf("%s read as %s: %s", list, prof, strings.Join(why[k], "; ")))
	}
	return out
}

func profileCell(pl fleet.Placement) string {
	switch {
	case pl.Profile == "":
		return "-"
	case pl.Source != nfd.SourceTailor:
		return pl.Profile + " (from " + string(pl.Source) + ")"
	}
	return pl.Profile
}

func placementCell(pl fleet.Placement) string {
	if !pl.Fits() {
		return "none"
	}
	return fmt.Sprintf("%s %s", pl.Target, shortDigest(*pl.Digest))
}

func writeChanges(w io.Writer, changes []fleet.Change, format string) error {
	if format == "json" {
		return writeJSON(w, changes)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tOLD\tNEW\tCHANGE")
	n := 0
	for _, ch := range changes {
		mark := "-"
		if ch.Changed {
			mark, n = "changes", n+1
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ch.Node, placementCell(ch.Old), placementCell(ch.New), mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d of %d nodes change build\n", n, len(changes))
	return err
}
