package cli

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/detect"
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
	f.StringVar(&o.cpuinfo, "cpuinfo", "", "describe the machine of this /proc/cpuinfo dump instead of this host")
	f.StringVar(&o.sysctl, "sysctl", "", "describe the Mac of this `sysctl -a machdep.cpu hw` dump")
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
		for _, l := range nfdLabels(p) {
			fmt.Fprintln(w, l)
		}
		return nil
	}
	return writeProfileText(w, p)
}

// nfdLabels are node-feature-discovery local-source lines
// (/etc/kubernetes/node-feature-discovery/features.d/tailor).
func nfdLabels(p *profile.Profile) []string {
	const prefix = "tailor.dev/"
	lines := []string{
		prefix + "cpu.target=" + p.CPU.Microarchitecture,
		prefix + "cpu.vendor=" + nfdValue(p.CPU.Vendor),
		prefix + "platform.architecture=" + p.Architecture,
	}
	if p.Variant != "" {
		lines = append(lines, prefix+"platform.variant="+p.Variant)
	}
	if p.CPU.Level > 0 {
		lines = append(lines, fmt.Sprintf("%scpu.level=v%d", prefix, p.CPU.Level))
	}
	// One label per target the host can run, for nodeSelector on a fallback.
	for _, t := range append([]string{p.CPU.Microarchitecture}, p.CPU.Ancestors...) {
		lines = append(lines, prefix+"cpu.target."+t+"=true")
	}
	best := map[string]profile.GPU{}
	for _, g := range p.GPUs {
		if cur, ok := best[g.Vendor]; !ok || profile.CompareVersions(g.ComputeCapability, cur.ComputeCapability) > 0 {
			best[g.Vendor] = g
		}
	}
	if g, ok := best[profile.VendorNVIDIA]; ok {
		lines = append(lines, prefix+"gpu.nvidia.compute-capability="+g.ComputeCapability, prefix+"gpu.nvidia.count="+fmt.Sprint(countVendor(p.GPUs, profile.VendorNVIDIA)))
		if g.CUDAVersion != "" {
			lines = append(lines, prefix+"gpu.nvidia.cuda="+g.CUDAVersion)
		}
		if g.Driver != "" {
			lines = append(lines, prefix+"gpu.nvidia.driver="+g.Driver)
		}
	}
	for _, g := range p.GPUs {
		if g.Vendor == profile.VendorAMD {
			lines = append(lines, prefix+"gpu.amd."+g.GFX+"=true")
		}
	}
	return slices.Compact(lines)
}

func countVendor(gpus []profile.GPU, vendor string) int {
	n := 0
	for _, g := range gpus {
		if g.Vendor == vendor {
			n++
		}
	}
	return n
}

// nfdValue makes a string a valid Kubernetes label value.
func nfdValue(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) > 63 {
		b = b[:63]
	}
	return string(b)
}

func writeProfileText(w io.Writer, p *profile.Profile) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s\t%s\n", k, v) }
	cpu := p.CPU.Microarchitecture + " (" + p.CPU.Vendor
	if p.CPU.Model != "" {
		cpu += ", " + p.CPU.Model
	}
	row("cpu:", cpu+")")
	row("fallback:", strings.Join(append([]string{p.CPU.Microarchitecture}, p.CPU.Ancestors...), " > "))
	row("platform:", p.Platform)
	if p.CPU.Level > 0 {
		row("level:", fmt.Sprintf("x86-64-v%d", p.CPU.Level))
	}
	if len(p.GPUs) == 0 {
		row("gpus:", "none")
	}
	for i, g := range p.GPUs {
		row(fmt.Sprintf("gpu %d:", i), gpuText(g))
	}
	if len(p.Labels) > 0 {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(p.Labels)) {
			kv = append(kv, k+"="+p.Labels[k])
		}
		row("labels:", strings.Join(kv, ", "))
	}
	return tw.Flush()
}

func gpuText(g profile.GPU) string {
	s := g.Vendor + " " + g.Model
	switch g.Vendor {
	case profile.VendorNVIDIA:
		s += ", compute capability " + g.ComputeCapability
		if g.Driver != "" {
			s += ", driver " + g.Driver
		}
		if g.CUDAVersion != "" {
			s += ", CUDA <= " + g.CUDAVersion
		}
	case profile.VendorAMD:
		s += ", " + g.GFX
	}
	return strings.TrimSpace(s)
}
