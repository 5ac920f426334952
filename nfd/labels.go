package nfd

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/requirement"
)

// Labels returns the node labels of profile p (see the Key functions). A
// host label whose key or value Kubernetes cannot carry is left out and its
// key returned in skipped.
func Labels(p *profile.Profile) (labels map[string]string, skipped []string) {
	l := map[string]string{
		KeyTarget: p.CPU.Microarchitecture,
		KeyArch:   p.Architecture,
	}
	if v := labelValue(p.CPU.Vendor); v != "" {
		l[KeyVendor] = v
	}
	if p.Variant != "" {
		l[KeyVariant] = p.Variant
	}
	if p.CPU.Level > 0 {
		l[KeyLevel] = fmt.Sprintf("v%d", p.CPU.Level)
	}
	for _, t := range Runs(p) {
		l[TargetKey(t)] = "true"
	}
	if t, err := p.Target(); err == nil {
		addVendor(l, t.Vendor())
	}
	addVendor(l, p.CPU.Vendor)
	for _, f := range p.CPU.Features {
		if k := FeatureKey(f); validKey(k) {
			l[k] = "true"
		}
	}
	// Names the catalog accepts for a feature (avx512, sse4.1, neon) are
	// labelled when the host has one, so nodeAffinity can ask for them.
	for name := range catalog.FeatureAliases() {
		if k := FeatureKey(name); validKey(k) && p.HasFeature(name) {
			l[k] = "true"
		}
	}
	nvidiaLabels(l, p.GPUs)
	for _, g := range p.GPUs {
		if g.Vendor == profile.VendorAMD {
			l[AMDKey(g.GFX)] = "true"
		}
	}
	for _, k := range slices.Sorted(maps.Keys(p.Labels)) {
		key, v := HostLabelKey(k), p.Labels[k]
		if !validKey(key) || !validValue(v) {
			skipped = append(skipped, k)
			continue
		}
		l[key] = v
	}
	return l, skipped
}

func addVendor(l map[string]string, v string) {
	if k := VendorKey(v); v != "" && validKey(k) {
		l[k] = "true"
	}
}

// Runs returns the catalog targets whose builds the CPU of p runs, as
// match judges a build for that target: the host's target and its
// ancestors, and siblings archspec does not link whose vendor fits and
// whose features the host has. Their labels (TargetKey) let a nodeAffinity
// ask for "runs code built for T" with one expression.
func Runs(p *profile.Profile) []string {
	t, err := p.Target()
	if err != nil {
		return nil
	}
	var descs []v1.Descriptor
	for _, c := range catalog.All() {
		if c.Family() != t.Family() {
			continue
		}
		r := requirement.Requirements{Target: c.Name()}
		descs = append(descs, v1.Descriptor{
			Platform:    &v1.Platform{OS: "linux", Architecture: c.Architecture()},
			Annotations: r.Annotations(),
		})
	}
	cands, err := match.Match(descs, p)
	if err != nil {
		return t.Lineage()
	}
	var out []string
	for _, c := range cands {
		if c.Fits {
			out = append(out, c.Reqs.Target)
		}
	}
	slices.Sort(out)
	return out
}

// nvidiaLabels adds the NVIDIA GPU labels: per compute capability and per
// major, the highest one, the driver and the CUDA version it supports.
func nvidiaLabels(l map[string]string, gpus []profile.GPU) {
	count := map[[2]int]int{}
	var best profile.GPU
	n := 0
	for _, g := range gpus {
		major, minor, ok := g.Capability()
		if g.Vendor != profile.VendorNVIDIA || !ok {
			continue
		}
		n++
		count[[2]int{major, minor}]++
		if n == 1 || profile.CompareVersions(g.ComputeCapability, best.ComputeCapability) > 0 {
			best = g
		}
		if best.Driver == "" {
			best.Driver = g.Driver
		}
		if best.CUDAVersion == "" {
			best.CUDAVersion = g.CUDAVersion
		}
	}
	if n == 0 {
		return
	}
	l[KeyNVIDIACount] = strconv.Itoa(n)
	l[KeyNVIDIACC] = best.ComputeCapability
	major, minor, _ := best.Capability()
	l[KeyNVIDIACCNumber] = strconv.Itoa(10*major + minor)
	for cc, c := range count {
		l[CCKey(cc[0], cc[1])] = strconv.Itoa(c)
		mk := MajorKey(cc[0])
		if cur, err := strconv.Atoi(l[mk]); err != nil || cc[1] > cur {
			l[mk] = strconv.Itoa(cc[1])
		}
	}
	if best.Driver != "" && validValue(best.Driver) {
		l[KeyDriver] = best.Driver
		if num, ok := DriverNumber(best.Driver); ok {
			l[KeyDriverNumber] = strconv.FormatInt(num, 10)
		}
	}
	if best.CUDAVersion != "" && validValue(best.CUDAVersion) {
		l[KeyCUDA] = best.CUDAVersion
		if m, err := strconv.Atoi(majorPart(best.CUDAVersion)); err == nil {
			l[KeyCUDAMajor] = strconv.Itoa(m)
		}
	}
}

func majorPart(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] == '.' {
			return v[:i]
		}
	}
	return v
}

// labelValue makes a string a valid label value: characters outside
// [A-Za-z0-9-_.] become _, at most 63 characters, alphanumeric ends.
func labelValue(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) > 63 {
		b = b[:63]
	}
	for len(b) > 0 && !alnum(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && !alnum(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return string(b)
}

func alnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

// Write writes labels as an NFD local feature file: key=value lines,
// sorted by key.
func Write(w io.Writer, labels map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if _, err := fmt.Fprintf(w, "%s=%s\n", k, labels[k]); err != nil {
			return err
		}
	}
	return nil
}
