package detect

import (
	"fmt"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
)

// parseRISCV reads a riscv64 cpuinfo block. The core comes from the uarch
// line ("sifive,u74-mc" is u74mc: the part after the vendor, without
// dashes) or from the model name ("Spacemit(R) X60" is x60: its last
// word); the uarch line wins when it names a catalog target, as archspec
// reads "sifive,u74-mc" before it looks at the model name. archspec knows
// only those two spellings; reading any "vendor,core" uarch and any model
// name this way lets a target added to the catalog be detected without a
// new rule. Features are the ISA extensions of the isa line; archspec
// does not read it, so an unusual isa line never fails the parse.
func parseRISCV(info *CPUInfo, fields map[string]string) error {
	isa, hasISA := lookup(fields, "isa")
	uarch, hasUarch := lookup(fields, "uarch")
	if !hasISA && !hasUarch {
		return fmt.Errorf("%w: no \"isa\" or \"uarch\" line in the first processor block of a riscv64 cpuinfo (truncated, or another machine's?)", ErrMalformed)
	}
	info.Model, _ = lookup(fields, "model name")
	fromUarch, fromModel := uarchCore(uarch), modelCore(info.Model)
	core := fromUarch
	if !isRISCVTarget(fromUarch.name) && (isRISCVTarget(fromModel.name) || fromUarch.name == "") {
		core = fromModel
	}
	info.Name, info.Vendor = core.name, riscvVendor(core.vendor)
	fs, err := isaExtensions(isa)
	if err != nil {
		return err
	}
	info.setFeatures(fs)
	return nil
}

// riscvCore is a core a riscv64 cpuinfo names, and its vendor.
type riscvCore struct{ vendor, name string }

// uarchCore reads a uarch line: "sifive,u74-mc" is SiFive's u74mc.
func uarchCore(uarch string) riscvCore {
	v, core, ok := strings.Cut(uarch, ",")
	if !ok {
		v, core = "", v
	}
	return riscvCore{v, coreName(core)}
}

// modelCore reads a model name: "Spacemit(R) X60" is SpacemiT's x60.
func modelCore(model string) riscvCore {
	words := strings.Fields(model)
	if len(words) == 0 {
		return riscvCore{}
	}
	return riscvCore{words[0], coreName(words[len(words)-1])}
}

// isRISCVTarget reports whether name is a riscv64 target of the catalog.
func isRISCVTarget(name string) bool {
	t, err := catalog.Lookup(name)
	return name != "" && err == nil && t.Family() == MachineRISCV64
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
		if t.Family() == MachineRISCV64 && strings.EqualFold(t.Vendor(), v) {
			return t.Vendor()
		}
	}
	return v
}

// isaExtensions splits "rv64imafdc_zicsr_zba" into i, m, a, f, d, c,
// zicsr, zba. An isa line of another base than rv64 (a 32-bit dump) is an
// error; version numbers ("rv64i2p1m2p0") and tokens that cannot be flag
// names are skipped, since detection does not need them.
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
	for i := 0; i < len(base); i++ {
		r := base[i]
		switch {
		case r == 'p' && i > 0 && base[i-1] >= '0' && base[i-1] <= '9':
			// the "p" of a version number: 2p1
		case r >= 'a' && r <= 'z':
			out = append(out, string(r))
		}
	}
	for _, ext := range parts[1:] {
		if ext = strings.TrimSpace(ext); isFlagName(ext) {
			out = append(out, ext)
		}
	}
	return out, nil
}

// compatibleRISCV is archspec's riscv64 rule: the generic root, or the
// target named by the cpuinfo.
func compatibleRISCV(info *CPUInfo, t *catalog.Target) bool {
	return t.Generic() || t.Name() == info.Name
}
