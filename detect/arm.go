package detect

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/internal/lazyre"
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
	if code, ok := lookup(fields, "CPU implementer"); ok {
		if v, ok := catalog.ARMVendor(code); ok {
			info.Vendor = v
		}
	}
	part, _ := lookup(fields, "CPU part")
	info.Part = normalizePart(part)
	info.Model, _ = lookup(fields, "model name")
	return nil
}

// normalizePart spells an ARM part code as the catalog does, "0x" and
// three lower-case hex digits: the kernel prints "0xd0c"; "0xD0C", "0XD0C"
// and "0x0d0c" are the same part. Anything else is kept, lower-cased.
func normalizePart(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	hex, ok := strings.CutPrefix(s, "0x")
	if !ok {
		return s
	}
	n, err := strconv.ParseUint(hex, 16, 32)
	if err != nil {
		return s
	}
	return fmt.Sprintf("0x%03x", n)
}

// compatibleARM is archspec's aarch64 rule. The Arm architecture versions
// (armv8.2a, ...) are never detected, since cpuinfo does not say which one
// a core implements; the other targets need a vendor match (or generic).
// On macOS, where sysctl does not list every feature, the Apple model named
// by the brand string decides: it and its ancestors fit. Elsewhere the
// target's features must all be present.
func compatibleARM(info *CPUInfo, have map[string]bool, t, model *catalog.Target) bool {
	if t.Generic() && t.Name() != MachineAArch64 {
		return false
	}
	if !vendorFits(info, t) {
		return false
	}
	if model != nil {
		return model.IsDescendantOf(t.Name())
	}
	return featuresFit(have, t)
}

// applePattern finds the model number of an Apple silicon brand string
// ("Apple M2 Pro" -> 2), as archspec does: "apple", white space, "m" and
// digits, in any case.
var applePattern = lazyre.New(`(?i)apple\s+m(\d+)`)

// appleName reads the model from a macOS brand string, as archspec does:
// "Apple M3 Max" is m3; "Apple processor", the brand string of the first
// M1 releases of macOS, is m1; any other brand string (a virtual machine's,
// "Apple M0") names no model and gives the generic aarch64.
func appleName(brand string) string {
	if m := applePattern.FindStringSubmatch(brand); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
			return "m" + strconv.Itoa(n)
		}
		return MachineAArch64
	}
	if strings.EqualFold(strings.TrimSpace(brand), "apple processor") {
		return "m1"
	}
	return MachineAArch64
}

// appleModel resolves an Apple model name to a catalog target: the target
// of that name, or for a model newer than the catalog knows (m9) the newest
// Apple target before it, whose code it runs (archspec counts down the
// same way). The name aarch64 is the generic root.
func appleModel(name string) *catalog.Target {
	if name == MachineAArch64 {
		return catalog.MustLookup(MachineAArch64)
	}
	if t, err := catalog.Lookup(name); err == nil && t.Vendor() == appleVendor {
		return t
	}
	n, ok := appleNumber(name)
	if !ok {
		return nil
	}
	var best *catalog.Target
	bestN := 0
	for _, t := range catalog.All() {
		if tn, ok := appleNumber(t.Name()); ok && t.Vendor() == appleVendor && tn <= n && tn > bestN {
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
