package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/fleet"
	"github.com/tailor-dev/tailor/mirrorconfig"
	"github.com/tailor-dev/tailor/serve"
)

func init() { register(newNodeSetupCommand) }

type nodeSetupOptions struct {
	config, server, certsDir, featuresDir, profile string
	registries                                     []string
	remove                                         bool
}

func newNodeSetupCommand() *cobra.Command {
	o := &nodeSetupOptions{}
	cmd := &cobra.Command{
		Use:   "node-setup",
		Short: "Point this node's containerd at tailor serve and write its NFD labels (--remove undoes it)",
		Long: `node-setup prepares a Kubernetes node for the tailor DaemonSet (deploy/): it
writes a containerd hosts.toml for each mirrored registry, pulls going to
tailor serve and, when tailor fails or is down, to the registry itself (the
server line); and it writes "tailor detect -o nfd" as a node-feature-discovery
local feature file. The registries and the server come from the serve
config (--config: its upstreams and listen address) or from --registry and
--server. Files tailor did not write are left alone. --remove deletes what
node-setup wrote.

containerd reads hosts.toml when its CRI registry config_path names the
directory (see the README's operator section).`,
		Example: `  tailor node-setup --config /etc/tailor/serve.yaml --certs-dir /etc/containerd/certs.d \
      --features-dir /etc/kubernetes/node-feature-discovery/features.d
  tailor node-setup --registry docker.io --server http://127.0.0.1:5000 --certs-dir /etc/containerd/certs.d --remove`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runNodeSetup(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "serve config whose upstreams are mirrored and whose listen address is the mirror")
	f.StringArrayVar(&o.registries, "registry", nil, "registry to mirror, NAME or NAME=URL (repeatable; adds to --config's upstreams)")
	f.StringVar(&o.server, "server", "", "tailor serve URL (default: http:// and --config's listen address, else http://127.0.0.1:5000)")
	f.StringVar(&o.certsDir, "certs-dir", "", "containerd's registry config_path, e.g. /etc/containerd/certs.d (empty: no mirrors)")
	f.StringVar(&o.featuresDir, "features-dir", "", "NFD's local features.d directory (empty: no labels); the file is named tailor")
	f.StringVar(&o.profile, "profile", "", "profile written as labels (default: this host): "+profileFlagUsage)
	f.BoolVar(&o.remove, "remove", false, "remove the files node-setup wrote instead")
	return cmd
}

func runNodeSetup(cmd *cobra.Command, o *nodeSetupOptions) error {
	s := fleet.NodeSetup{CertsDir: o.certsDir, Mirror: mirrorconfig.Options{Server: o.server, Registries: o.registries}}
	if o.config != "" {
		c, err := serve.LoadConfig(o.config)
		if err != nil {
			return usageError(err)
		}
		for _, u := range c.Upstreams {
			s.Mirror.Registries = append(s.Mirror.Registries, u.Name+"="+u.URL)
		}
		if s.Mirror.Server == "" && c.Listen != "" {
			s.Mirror.Server = "http://" + c.Listen
		}
	}
	if s.Mirror.Server == "" {
		s.Mirror.Server = "http://127.0.0.1:5000"
	}
	if o.certsDir != "" && len(s.Mirror.Registries) == 0 {
		return usageError(fmt.Errorf("--certs-dir given but no registry to mirror: give --config with upstreams, or --registry"))
	}
	if o.certsDir == "" && o.featuresDir == "" {
		return usageError(fmt.Errorf("nothing to do: give --certs-dir, --features-dir or both"))
	}
	if o.featuresDir != "" {
		s.FeaturesFile = filepath.Join(o.featuresDir, "tailor")
	}
	var (
		r   *fleet.NodeReport
		err error
	)
	if o.remove {
		r, err = fleet.CleanupNode(s)
	} else {
		if o.featuresDir != "" {
			if s.Profile, err = loadProfile(cmd.Context(), o.profile); err != nil {
				return err
			}
		}
		r, err = fleet.SetupNode(s)
	}
	if r != nil {
		writeNodeReport(cmd.OutOrStdout(), r)
	}
	if err != nil && strings.Contains(err.Error(), "want") {
		return usageError(err)
	}
	return err
}

func writeNodeReport(w io.Writer, r *fleet.NodeReport) {
	for _, p := range r.Written {
		fmt.Fprintln(w, "wrote", p)
	}
	for _, p := range r.Removed {
		fmt.Fprintln(w, "removed", p)
	}
	for _, p := range r.Skipped {
		fmt.Fprintln(w, "skipped", p)
	}
}
