package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/fleet"
	"github.com/tailor-dev/tailor/nfd"
)

func init() { register(newAffinityCommand) }

type affinityOptions struct {
	registry registryFlags
	nodes    string
	output   string
}

func newAffinityCommand() *cobra.Command {
	o := &affinityOptions{}
	cmd := &cobra.Command{
		Use:   "affinity REF",
		Short: "Print the nodeAffinity that places pods of REF only on nodes some build fits",
		Long: `affinity prints, as YAML to paste under a pod template's spec, the required
nodeAffinity over the tailor.dev/ node labels ("tailor detect -o nfd") that
admits exactly the nodes some entry of REF fits: what an index without a
generic entry needs, so no pod lands where no build can run.

An entry with no requirements is admitted by kubernetes.io/arch alone (every
node of its architecture runs it). With --nodes, the nodes admitted are
listed after the YAML as comments.`,
		Example: `  tailor affinity registry.example/solver:2
  kubectl get nodes -o json | tailor affinity solver:2 --nodes -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runAffinity(cmd, args[0], o) },
	}
	cmd.Flags().StringVar(&o.nodes, "nodes", "", `also list which of these nodes ("kubectl get nodes -o json", a file or -) are admitted`)
	cmd.Flags().StringVarP(&o.output, "output", "o", "yaml", "output format: yaml or json (the node selector terms)")
	o.registry.add(cmd.Flags())
	return cmd
}

func runAffinity(cmd *cobra.Command, ref string, o *affinityOptions) error {
	if o.output != "yaml" && o.output != "json" {
		return usageError(fmt.Errorf("-o %q: want yaml or json", o.output))
	}
	var nodes []fleet.Node
	if o.nodes != "" {
		var err error
		if nodes, err = readNodes(cmd.InOrStdin(), o.nodes); err != nil {
			return err
		}
	}
	c, err := o.registry.client()
	if err != nil {
		return err
	}
	a, err := fleet.AffinityFor(cmd.Context(), c, ref)
	if errors.Is(err, fleet.ErrNoNode) {
		return err
	}
	if err != nil {
		return registryError(err)
	}
	if len(a.Generic) > 0 {
		fmt.Fprintf(cmd.ErrOrStderr(), "tailor: %s has a generic entry for %s: every such node gets a build, labelled or not\n", ref, strings.Join(a.Generic, ", "))
	}
	out := cmd.OutOrStdout()
	if o.output == "json" {
		return writeJSON(out, a.Terms)
	}
	y, err := a.YAML()
	if err != nil {
		return err
	}
	if _, err := out.Write(y); err != nil {
		return err
	}
	return writeAdmitted(out, a, nodes)
}

// writeAdmitted lists, as YAML comments, which nodes a admits, judged
// once per class of nodes (fleet.Classes), and the nodes read only from
// NFD's or the architecture's labels, which no term over tailor's labels
// admits until tailor labels them.
func writeAdmitted(w io.Writer, a *fleet.Affinity, nodes []fleet.Node) error {
	if len(nodes) == 0 {
		return nil
	}
	in := make([]bool, len(nodes))
	var unlabelled []string
	for _, c := range fleet.Classes(nodes) {
		ok := a.Admits(nodes[c.Nodes[0]].Labels)
		for _, i := range c.Nodes {
			in[i] = ok
		}
		np := c.Profile
		if !ok && np.Err == nil && np.Source != nfd.SourceTailor {
			for _, i := range c.Nodes {
				unlabelled = append(unlabelled, fmt.Sprintf("%s (%s from %s labels)", nodes[i].Name, np.Profile.CPU.Microarchitecture, np.Source))
			}
		}
	}
	var yes, no []string
	for i, n := range nodes {
		if in[i] {
			yes = append(yes, n.Name)
		} else {
			no = append(no, n.Name)
		}
	}
	if _, err := fmt.Fprintf(w, "# admits %d of %d nodes: %s\n# not admitted: %s\n", len(yes), len(nodes), strings.Join(yes, " "), strings.Join(no, " ")); err != nil {
		return err
	}
	if len(unlabelled) > 0 {
		_, err := fmt.Fprintf(w, "# without tailor.dev labels (tailor node-setup or the DaemonSet writes them; until then no term admits them): %s\n", strings.Join(unlabelled, ", "))
		return err
	}
	return nil
}
