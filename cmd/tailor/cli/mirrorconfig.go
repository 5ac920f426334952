package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/mirrorconfig"
)

func init() { register(newMirrorConfigCommand) }

func newMirrorConfigCommand() *cobra.Command {
	var o mirrorconfig.Options
	var client string
	cmd := &cobra.Command{
		Use:   "mirror-config --for containerd|docker|podman|skopeo REGISTRY...",
		Short: "Print the client configuration that points pulls at a tailor serve mirror",
		Example: `  tailor mirror-config --for containerd docker.io ghcr.io
  tailor mirror-config --for skopeo --server http://10.0.0.5:5000 docker.io
  tailor mirror-config --for containerd --profile zen3 docker.io   # profile by path prefix`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Registries = args
			out, err := mirrorconfig.Render(client, o)
			if err != nil {
				return usageError(err)
			}
			_, err = io.WriteString(cmd.OutOrStdout(), out)
			return err
		},
	}
	cmd.Flags().StringVar(&client, "for", "containerd", fmt.Sprintf("client: %s", strings.Join(mirrorconfig.Clients, ", ")))
	cmd.Flags().StringVar(&o.Server, "server", "http://127.0.0.1:5000", "the tailor serve URL")
	cmd.Flags().StringVar(&o.Profile, "profile", "", "profile name or spec by path prefix /v2/_p/<profile>/ (containerd)")
	return cmd
}
