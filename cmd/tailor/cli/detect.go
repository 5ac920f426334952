package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/detect"
	"github.com/tailor-dev/tailor/nfd"
	"github.com/tailor-dev/tailor/profile"
)

func init() { register(newDetectCommand) }

type detectOptions struct {
	cpuinfo, sysctl, machine string
	spec                     string
	labels                   []string
	labelsFile               string
	output                   string
}

func newDetectCommand() *cobra.Command {
	o := &detectOptions{}
	cmd := &cobra.Command{
		Use:   "detect",
		Short: "Print the host profile: CPU target and fallback chain, OCI platform, GPUs, labels",
		Example: `  tailor detect
  tailor detect -o json
  tailor detect -o platform                      # linux/amd64/v4
  tailor detect --cpuinfo dump.txt --machine aarch64
  tailor detect --profile cpu=zen3,gpu=8.0,driver=550.54 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := o.profile(cmd)
			if err != nil {
				return err
			}
			return writeProfile(cmd.OutOrStdout(), p, o.output)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.cpuinfo, "cpuinfo", "", "describe the machine of this /proc/cpuinfo dump `FILE` instead of this host")
	f.StringVar(&o.sysctl, "sysctl", "", "describe the Mac of this dump `FILE` (what sysctl -a machdep.cpu hw prints there)")
	f.StringVar(&o.machine, "machine", "", "uname -m of the dumped machine (x86_64, aarch64, ppc64, ppc64le, riscv64); guessed from the dump when empty")
	f.StringVar(&o.spec, "profile", "", "expand a profile spec string (cpu=zen3,gpu=8.0,driver=550.54,label.k=v) instead of detecting")
	f.StringArrayVar(&o.labels, "labels", nil, "host label k=v (repeatable, or comma-separated)")
	f.StringVar(&o.labelsFile, "labels-file", detect.DefaultLabelsFile, "file of host labels, one k=v per line")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text, json, platform or nfd")
	return cmd
}

func (o *detectOptions) profile(cmd *cobra.Command) (*profile.Profile, error) {
	switch o.output {
	case "text", "json", "platform", "nfd":
	default:
		return nil, usageError(fmt.Errorf("unknown output format %q (want text, json, platform or nfd)", o.output))
	}
	if o.spec != "" {
		if o.cpuinfo != "" || o.sysctl != "" {
			return nil, usageError(fmt.Errorf("--profile cannot be combined with --cpuinfo or --sysctl"))
		}
		p, err := profile.Load(o.spec)
		if err != nil {
			return nil, usageError(err)
		}
		return p, nil
	}
	opts, err := o.detectOptions(cmd)
	if err != nil {
		return nil, usageError(err)
	}
	dump := o.cpuinfo + o.sysctl
	host := hostProfile
	if dump != "" {
		host = detect.Host // a dump describes another machine: its CPU only
	}
	p, err := host(cmd.Context(), opts...)
	if err != nil {
		if cmd.Flags().Changed("labels-file") && errors.Is(err, fs.ErrNotExist) {
			return nil, usageError(fmt.Errorf("--labels-file: %w", err))
		}
		if dump != "" {
			return nil, usageError(fmt.Errorf("%s: %w", dump, err))
		}
		return nil, err
	}
	return p, nil
}

func (o *detectOptions) detectOptions(cmd *cobra.Command) ([]detect.Option, error) {
	opts := []detect.Option{detect.WithLogger(slog.Default())}
	switch {
	case o.cpuinfo != "" && o.sysctl != "":
		return nil, fmt.Errorf("give --cpuinfo or --sysctl, not both")
	case o.cpuinfo != "" || o.sysctl != "":
		path, with := o.cpuinfo, detect.WithCPUInfo
		if o.sysctl != "" {
			path, with = o.sysctl, detect.WithSysctl
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read dump: %w", err)
		}
		opts = append(opts, with(data, o.machine))
	case o.machine != "":
		return nil, fmt.Errorf("--machine describes a dump: give --cpuinfo or --sysctl with it")
	}
	if cmd.Flags().Changed("labels-file") || o.labelsFile != detect.DefaultLabelsFile {
		opts = append(opts, detect.WithLabelsFile(o.labelsFile))
	}
	labels := map[string]string{}
	for _, item := range o.labels {
		for _, kv := range strings.Split(item, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" || v == "" {
				return nil, fmt.Errorf("--labels %q: want key=value", kv)
			}
			labels[k] = v
		}
	}
	if len(labels) > 0 {
		opts = append(opts, detect.WithLabels(labels))
	}
	return opts, nil
}

func writeProfile(w io.Writer, p *profile.Profile, format string) error {
	switch format {
	case "json":
		return writeJSON(w, p)
	case "platform":
		_, err := fmt.Fprintln(w, p.Platform)
		return err
	case "nfd":
		labels, skipped := nfd.Labels(p)
		if len(skipped) > 0 {
			slog.Warn("host labels left out of the node labels: Kubernetes label syntax cannot carry them", "labels", skipped)
		}
		return nfd.Write(w, labels)
	}
	return p.WriteText(w)
}
