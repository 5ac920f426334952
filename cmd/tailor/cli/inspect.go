package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/google/go-containerregistry/pkg/v1/types"
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
		Long: `inspect fetches REF's manifest once and prints its entries with their
requirements, then, for each target, the entry a host of that target gets
(TARGET → ENTRY, its digest and requirements).

--targets takes catalog target names (haswell, zen4, neoverse_v2) and host
profile specs (cpu=sapphirerapids,gpu=9.0,driver=550.54.14), comma-separated
or repeated: a cpu= or arch= key starts a new spec, a word without = is a
target name, other key=value fields belong to the spec before them.`,
		Example: `  tailor inspect localhost:5000/app:1
  tailor inspect app:1 --targets haswell,zen4,neoverse_v2 -o json
  tailor inspect app:1 --targets zen4,cpu=sapphirerapids,gpu=9.0,driver=550.54.14`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.output != "text" && o.output != "json" {
				return usageError(fmt.Errorf("-o %q: want text or json", o.output))
			}
			c, err := o.registry.client()
			if err != nil {
				return err
			}
			mx, err := resolve.Inspect(cmd.Context(), c, args[0], splitTargets(o.targets))
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
	cmd.Flags().StringArrayVar(&o.targets, "targets", nil, "targets to show the choice for: names (zen4) or profile specs (cpu=zen4,gpu=9.0,driver=550.54.14), comma-separated or repeated (default: a spread of x86-64 and arm64 generations)")
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	return cmd
}

// splitTargets reads --targets values into target names and profile specs:
// fields are comma-separated; a field without = is a name, cpu= or arch=
// starts a new spec unless the spec being read lacks that key, and any
// other key=value field joins the spec before it (or starts one).
func splitTargets(values []string) []string {
	var out []string
	spec := -1 // index in out of the spec being read
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			key, _, isField := strings.Cut(f, "=")
			switch {
			case f == "":
			case !isField:
				out, spec = append(out, f), -1
			case spec < 0 || (key == "cpu" || key == "arch") && hasKey(out[spec], key):
				out, spec = append(out, f), len(out)
			default:
				out[spec] += "," + f
			}
		}
		spec = -1
	}
	return out
}

func hasKey(spec, key string) bool {
	for _, f := range strings.Split(spec, ",") {
		if strings.HasPrefix(f, key+"=") {
			return true
		}
	}
	return false
}

// inspectError marks an unknown --targets name as a usage error.
func inspectError(err error) error {
	if exitCode(err) == exitUsage {
		return usageError(err)
	}
	return registryError(err)
}

// writeMatrix prints the index, its entries, then TARGET → ENTRY for each
// target, and the entries no target gets.
func writeMatrix(w io.Writer, mx *resolve.Matrix) error {
	fmt.Fprintf(w, "%s\n%s, %s\n\n", mx.Reference, kindOf(mx.MediaType, len(mx.Entries)), mx.Digest)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTRY\tDIGEST\tPLATFORM\tREQUIREMENTS")
	for _, e := range mx.Entries {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", e.Index, shortDigest(e.Digest), platformString(e.Platform), entryRequirements(e))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	chosen := make([]bool, len(mx.Entries))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\t\tENTRY\tDIGEST\tREQUIREMENTS")
	for _, a := range mx.Targets {
		if a.Entry == nil {
			fmt.Fprintf(tw, "%s\t→\t-\t-\t(no fitting entry)\n", a.Target)
			continue
		}
		e := mx.Entries[*a.Entry]
		chosen[*a.Entry] = true
		fmt.Fprintf(tw, "%s\t→\t%d\t%s\t%s\n", a.Target, *a.Entry, shortDigest(e.Digest), entryRequirements(e))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var unused []string
	for i, e := range mx.Entries {
		if !chosen[i] {
			unused = append(unused, fmt.Sprintf("%d (%s)", i, entryRequirements(e)))
		}
	}
	if len(unused) > 0 {
		_, err := fmt.Fprintf(w, "\nno target above gets entry %s\n", strings.Join(unused, ", "))
		return err
	}
	return nil
}

func entryRequirements(e resolve.Entry) string {
	if e.Requirements == nil {
		return "error: " + e.Error
	}
	return e.Requirements.String()
}

// kindOf names a manifest type for people: "OCI image index of 6 entries".
func kindOf(mt types.MediaType, n int) string {
	kind := map[types.MediaType]string{
		types.OCIImageIndex:         "OCI image index",
		types.DockerManifestList:    "Docker manifest list",
		types.OCIManifestSchema1:    "OCI image manifest",
		types.DockerManifestSchema2: "Docker image manifest",
	}[mt]
	if kind == "" {
		kind = string(mt)
	}
	if !mt.IsIndex() {
		return kind
	}
	if n == 1 {
		return kind + " of 1 entry"
	}
	return fmt.Sprintf("%s of %d entries", kind, n)
}
