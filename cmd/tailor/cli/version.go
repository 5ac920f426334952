package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func init() { register(newVersionCommand) }

// version is set at link time by release builds
// (-ldflags "-X github.com/tailor-dev/tailor/cmd/tailor/cli.version=v1.2.3");
// otherwise the module version `go install` records is used.
var version = ""

// buildInfo is what `tailor version` prints.
type buildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"`
	Time      string `json:"time,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"go"`
	Platform  string `json:"platform"`
	CGO       bool   `json:"cgo"`
}

// readBuildInfo describes this binary from its embedded build information.
func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	if b.Version == "" {
		b.Version = info.Main.Version // "(devel)" for a build from a checkout
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		case "CGO_ENABLED":
			b.CGO = s.Value == "1"
		}
	}
	return b
}

func newVersionCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print tailor's version and build information",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := readBuildInfo()
			switch output {
			case "json":
				return writeJSON(cmd.OutOrStdout(), b)
			case "text":
			default:
				return usageError(fmt.Errorf("unknown output format %q (want text or json)", output))
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "tailor %s\n", b.Version)
			if b.Revision != "" {
				dirty := ""
				if b.Modified {
					dirty = " (modified)"
				}
				fmt.Fprintf(w, "revision %s %s%s\n", b.Revision, b.Time, dirty)
			}
			fmt.Fprintf(w, "%s %s, cgo %v\n", b.GoVersion, b.Platform, b.CGO)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
