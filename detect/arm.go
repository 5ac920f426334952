package detect

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
)

// appleVendor is the catalog vendor of Apple silicon targets.
const appleVendor = "Apple"

// parseARM reads an aarch64 cpuinfo block: Features, CPU implementer (the
// vendor, through the catalog's ARM vendor codes) and CPU part.
func parseARM(info *CPUInfo, fields map[string]string) error {
	features, err := require(fields, "Features", MachineAArch64)
	if err != nil {
		return err
	}
	fs, err := flagTokens("Features", features)
	if err != nil {
		return err
	}
	info.setFeatures(fs)
	if code, ok := fields["CPU implementer"]; ok {
		if v, ok := catalog.ARMVendor(code); ok {
			info.Vendor = v
		}
	}
	info.Part = strings.ToLower(fields["CPU part"])
	info.Model = fields["model name"]
	return nil
}

// compatibleARM is archspec's aarch64 rule. The Arm architecture versions
// (armv8.2a, ...) are never detected, since cpuinfo does not say which one
// a core implements; the other targets need a vendor match (or generic).
// On macOS, where sysctl does not list every feature, the Apple model named
// by the brand string decides: it and its ancestors fit. Elsewhere the
// target's features must all be present.
func compatibleARM(info *CPUInfo, have map[string]bool, t, model *catalog.Target) bool {
	if t.Generic() && t.Name != MachineAArch64 {
		return false
	}
	if !vendorFits(info, t) {
		return false
	}
	if model != nil {
		return model.IsDescendantOf(t.Name)
	}
	return featuresFit(MachineAArch64, have, t)
}

// applePattern finds the model number of an Apple silicon brand string
// ("Apple M2 Pro" -> 2).
var applePattern = regexp.MustCompile(`(?i)\bM(\d+)\b`)

// appleName reads the model from a macOS brand string: "Apple M3 Max" is
// m3; a brand string that says Apple but no model ("Apple processor", on
// the first M1 releases of macOS) is m1, as archspec reads it.
func appleName(brand string) string {
	if m := applePattern.FindStringSubmatch(brand); m != nil {
		return "m" + m[1]
	}
	if strings.Contains(strings.ToLower(brand), "apple") {
		return "m1"
	}
	return ""
}

// appleModel resolves an Apple model name to a catalog target: the target
// of that name, or for a model newer than the catalog knows (m9) the newest
// Apple target before it, whose code it runs.
func appleModel(name string) *catalog.Target {
	if t, err := catalog.Lookup(name); err == nil && t.Vendor == appleVendor {
		return t
	}
	n, ok := appleNumber(name)
	if !ok {
		return nil
	}
	var best *catalog.Target
	bestN := 0
	for _, t := range catalog.All() {
		if tn, ok := appleNumber(t.Name); ok && t.Vendor == appleVendor && tn <= n && tn > bestN {
			best, bestN = t, tn
		}
	}
	return best
}

func appleNumber(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "m")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n > 0
}
