package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/catalog"
)

func init() { register(newTargetsCommand) }

// targetJSON is one target as `tailor targets -o json` prints it.
type targetJSON struct {
	Name       string                         `json:"name"`
	Vendor     string                         `json:"vendor"`
	Family     string                         `json:"family"`
	Parents    []string                       `json:"parents"`
	Ancestors  []string                       `json:"ancestors"`
	Features   []string                       `json:"features"`
	Level      int                            `json:"level,omitempty"`
	Platform   string                         `json:"platform"`
	Generation int                            `json:"generation,omitempty"`
	CPUParts   []string                       `json:"cpu_parts,omitempty"`
	Flags      map[string][]catalog.FlagEntry `json:"flags"`
}

func newTargetJSON(t *catalog.Target) targetJSON {
	flags := map[string][]catalog.FlagEntry{}
	for _, c := range t.Compilers() {
		flags[c] = t.FlagEntries(c)
	}
	return targetJSON{
		Name: t.Name(), Vendor: t.Vendor(), Family: t.Family(), Parents: t.Parents(),
		Ancestors: t.Ancestors(), Features: t.FeatureList(), Level: t.Level(),
		Platform: t.Platform().String(), Generation: t.Generation(), CPUParts: t.CPUParts(), Flags: flags,
	}
}

func newTargetsCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "targets [NAME]",
		Short: "Show the microarchitecture catalog, or one target in detail",
		Example: `  tailor targets                 # the catalog as a tree
  tailor targets skylake_avx512  # features, level, OCI platform, compiler flags
  tailor targets -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return usageError(fmt.Errorf("unknown output format %q (want text or json)", output))
			}
			out := cmd.OutOrStdout()
			if len(args) == 1 {
				t, err := catalog.Lookup(args[0])
				if err != nil {
					return usageError(err)
				}
				if output == "json" {
					return writeJSON(out, newTargetJSON(t))
				}
				return printTarget(out, t)
			}
			if output == "json" {
				all := catalog.All()
				list := make([]targetJSON, len(all))
				for i, t := range all {
					list[i] = newTargetJSON(t)
				}
				return writeJSON(out, list)
			}
			return printTree(out)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// printTree prints each family as a tree. The catalog is a DAG: a target
// is printed under its first parent, with its other parents named.
func printTree(w io.Writer) error {
	var walk func(t *catalog.Target, indent string)
	walk = func(t *catalog.Target, indent string) {
		line := indent + t.Name()
		if len(t.Parents()) > 1 {
			line += "  (also " + strings.Join(t.Parents()[1:], ", ") + ")"
		}
		fmt.Fprintln(w, line)
		for _, c := range t.Children() {
			if c.Parents()[0] == t.Name() {
				walk(c, indent+"  ")
			}
		}
	}
	for _, t := range catalog.All() {
		if len(t.Parents()) == 0 {
			walk(t, "")
		}
	}
	return nil
}

func printTarget(w io.Writer, t *catalog.Target) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	row("name:", t.Name())
	row("vendor:", t.Vendor())
	row("family:", t.Family())
	row("parents:", strings.Join(t.Parents(), ", "))
	row("fallback:", strings.Join(t.Lineage(), " > "))
	if l := t.Level(); l > 0 {
		row("x86-64 level:", fmt.Sprintf("v%d", l))
	}
	if t.Generation() > 0 {
		row("generation:", fmt.Sprint(t.Generation()))
	}
	if len(t.CPUParts()) > 0 {
		row("cpu part:", strings.Join(t.CPUParts(), ", "))
	}
	row("platform:", t.Platform().String())
	row("features:", strings.Join(t.FeatureList(), " "))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "compiler flags:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range t.Compilers() {
		for _, e := range t.FlagEntries(c) {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", c, versionRange(e.Versions), e.Flags)
		}
	}
	return tw.Flush()
}

func versionRange(v string) string {
	lo, hi, _ := strings.Cut(v, ":")
	switch {
	case lo == "" && hi == "":
		return "any"
	case hi == "":
		return ">= " + lo
	case lo == "":
		return "<= " + hi
	}
	return lo + " - " + hi
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
