package detect

import (
	"fmt"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
)

// parseRISCV reads a riscv64 cpuinfo block. The core comes from the uarch
// line ("sifive,u74-mc" is u74mc: the part after the vendor, without
// dashes), or else from the model name ("Spacemit(R) X60" is x60: its last
// word). Features are the ISA extensions of the isa line.
func parseRISCV(info *CPUInfo, fields map[string]string) error {
	isa, hasISA := fields["isa"]
	uarch, hasUarch := fields["uarch"]
	if !hasISA && !hasUarch {
		return fmt.Errorf("%w: no \"isa\" or \"uarch\" line in the first processor block of a riscv64 cpuinfo (truncated, or another machine's?)", ErrMalformed)
	}
	info.Model = fields["model name"]
	var vendor string
	switch {
	case uarch != "":
		v, core, ok := strings.Cut(uarch, ",")
		if !ok {
			core = v
			v = ""
		}
		vendor, info.Name = v, coreName(core)
	case info.Model != "":
		words := strings.Fields(info.Model)
		vendor, info.Name = words[0], coreName(words[len(words)-1])
	}
	info.Vendor = riscvVendor(vendor)
	fs, err := isaExtensions(isa)
	if err != nil {
		return err
	}
	info.setFeatures(fs)
	return nil
}

// coreName lowercases s and keeps its letters and digits: "u74-mc" -> u74mc.
func coreName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// riscvVendor spells a vendor as the catalog does (sifive -> SiFive,
// "Spacemit(R)" -> SpacemiT), or keeps it when the catalog has no target of
// that vendor.
func riscvVendor(v string) string {
	v = strings.TrimSuffix(strings.TrimSpace(v), "(R)")
	if v == "" {
		return ""
	}
	for _, t := range catalog.All() {
		if t.Family() == MachineRISCV64 && strings.EqualFold(t.Vendor, v) {
			return t.Vendor
		}
	}
	return v
}

// isaExtensions splits "rv64imafdc_zicsr_zba" into i, m, a, f, d, c, zicsr, zba.
func isaExtensions(isa string) ([]string, error) {
	if isa == "" {
		return nil, nil
	}
	parts := strings.Split(strings.ToLower(isa), "_")
	base, ok := strings.CutPrefix(parts[0], "rv64")
	if !ok {
		return nil, fmt.Errorf("%w: isa %q does not start with rv64", ErrMalformed, clip(isa))
	}
	var out []string
	for _, r := range base {
		if r < 'a' || r > 'z' {
			return nil, fmt.Errorf("%w: isa %q: unexpected %q", ErrMalformed, clip(isa), r)
		}
		out = append(out, string(r))
	}
	for _, ext := range parts[1:] {
		if !isFlagName(ext) {
			return nil, fmt.Errorf("%w: isa %q: unexpected extension %q", ErrMalformed, clip(isa), clip(ext))
		}
		out = append(out, ext)
	}
	return out, nil
}

// compatibleRISCV is archspec's riscv64 rule: the generic root, or the
// target named by the cpuinfo.
func compatibleRISCV(info *CPUInfo, t *catalog.Target) bool {
	return t.Generic() || t.Name == info.Name
}
