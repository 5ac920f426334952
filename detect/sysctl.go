package detect

import (
	"fmt"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
)

// ParseSysctl reads the output of `sysctl -a machdep.cpu hw` on macOS, of
// the machine named by machine (x86_64, or arm64/aarch64 for Apple
// silicon). An empty machine is inferred from the keys.
//
// On Intel Macs the features are machdep.cpu.features, leaf7_features and
// extfeatures, lower-cased and translated to Linux names through the
// catalog's darwin flags. On Apple silicon the vendor is Apple, the model
// comes from machdep.cpu.brand_string and the features from the
// hw.optional.* keys set to 1.
func ParseSysctl(data []byte, machine string) (*CPUInfo, error) {
	info, err := parseSysctl(data, machine)
	if err != nil {
		return nil, fmt.Errorf("parsing sysctl output: %w", err)
	}
	return info, nil
}

func parseSysctl(data []byte, machine string) (*CPUInfo, error) {
	if len(data) > maxDump {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformed, len(data), maxDump)
	}
	if err := checkText(data); err != nil {
		return nil, err
	}
	keys, err := sysctlKeys(withoutBOM(data))
	if err != nil {
		return nil, err
	}
	if machine == "" {
		if machine = inferSysctlMachine(keys); machine == "" {
			return nil, fmt.Errorf("%w: cannot tell the machine from the sysctl keys, give it", ErrUnknownMachine)
		}
	}
	family, err := NormalizeMachine(machine)
	if err != nil {
		return nil, err
	}
	info := &CPUInfo{OS: OSDarwin, Machine: family}
	switch family {
	case MachineX86_64:
		err = parseDarwinX86(info, keys)
	case MachineAArch64:
		err = parseDarwinARM(info, keys)
	default:
		err = fmt.Errorf("%w %q: macOS runs on x86_64 and arm64 only", ErrUnknownMachine, machine)
	}
	if err != nil {
		return nil, err
	}
	return info, nil
}

// sysctlKeys reads "key: value" lines (sysctl -a prints ": ", sysctl -n
// style "key = value" is accepted too). The first value of a key wins. The
// first line must be one; after it, lines that are not (the rest of a
// value that spans lines in a full sysctl -a) are skipped.
func sysctlKeys(text string) (map[string]string, error) {
	keys := map[string]string{}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		i := strings.IndexAny(line, ":=")
		if i < 0 || !isSysctlKey(strings.TrimSpace(line[:i])) {
			if len(keys) > 0 {
				continue // a continuation line of a multi-line value of sysctl -a
			}
			return nil, fmt.Errorf("%w: line %d: want \"name: value\", got %q", ErrMalformed, n+1, clip(line))
		}
		key := strings.TrimSpace(line[:i])
		if _, dup := keys[key]; !dup {
			keys[key] = strings.TrimSpace(line[i+1:])
		}
	}
	return keys, nil
}

// isSysctlKey reports whether s is a dotted sysctl name (hw.optional.neon).
func isSysctlKey(s string) bool {
	if !strings.Contains(s, ".") || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return false
	}
	return nameChars(s)
}

func inferSysctlMachine(keys map[string]string) string {
	switch {
	case keys["hw.optional.arm64"] == "1":
		return MachineAArch64
	case keys["machdep.cpu.features"] != "":
		return MachineX86_64
	case strings.Contains(keys["machdep.cpu.brand_string"], "Apple"):
		return MachineAArch64
	}
	return ""
}

// rosettaVendor is the vendor Rosetta 2 reports for the x86_64 CPU it
// emulates on Apple silicon.
const rosettaVendor = "GenuineIntel"

// parseDarwinX86 reads an Intel Mac: vendor, brand string and the three
// feature keys, translated to Linux flag names.
//
// An Apple silicon Mac read as x86_64 is a process under Rosetta 2: macOS
// gives it the features Rosetta emulates but no machdep.cpu.vendor, and
// Rosetta's CPU is Intel's. archspec decides the machine from the brand
// string and would report the Apple model; tailor keeps the machine it is
// given, since an x86_64 process runs x86_64 code, and so reports what
// archspec's test data names such a dump (core2 for Rosetta on macOS 12).
func parseDarwinX86(info *CPUInfo, keys map[string]string) error {
	vendor := keys["machdep.cpu.vendor"]
	if vendor == "" && strings.Contains(keys["machdep.cpu.brand_string"], "Apple") {
		vendor = rosettaVendor
	}
	if vendor == "" {
		return fmt.Errorf("%w: no %q value (truncated, or another machine's?)", ErrMalformed, "machdep.cpu.vendor")
	}
	if _, err := requireKey(keys, "machdep.cpu.features"); err != nil {
		return err
	}
	var raw []string
	for _, k := range []string{"machdep.cpu.features", "machdep.cpu.leaf7_features", "machdep.cpu.extfeatures"} {
		fs, err := flagTokens(k, strings.ToLower(keys[k]))
		if err != nil {
			return err
		}
		raw = append(raw, fs...)
	}
	info.Vendor = vendor
	info.Model = keys["machdep.cpu.brand_string"]
	info.setFeatures(translateDarwin(raw))
	return nil
}

// translateDarwin adds the Linux names of macOS flags. A catalog rule
// "popcnt lzcnt" -> "abm" adds abm when ALL of popcnt and lzcnt are
// present; a rule's value may name several flags.
func translateDarwin(raw []string) []string {
	have := make(map[string]bool, len(raw))
	for _, f := range raw {
		have[f] = true
	}
	out := raw
	for from, to := range catalog.DarwinFlags() {
		all := true
		for _, f := range strings.Fields(from) {
			all = all && have[f]
		}
		if all {
			out = append(out, strings.Fields(to)...)
		}
	}
	return out
}

// parseDarwinARM reads an Apple silicon Mac: the brand string names the
// model, hw.optional keys give the features.
func parseDarwinARM(info *CPUInfo, keys map[string]string) error {
	brand, err := requireKey(keys, "machdep.cpu.brand_string")
	if err != nil {
		return err
	}
	info.Vendor = appleVendor
	info.Model = brand
	info.Name = appleName(brand)
	var fs []string
	for k, v := range keys {
		if v != "1" {
			continue
		}
		name, ok := strings.CutPrefix(k, "hw.optional.")
		if !ok {
			continue
		}
		fs = append(fs, strings.Fields(darwinARMFeatures[strings.TrimPrefix(name, "arm.")])...)
	}
	info.setFeatures(fs)
	return nil
}

func requireKey(keys map[string]string, key string) (string, error) {
	v := keys[key]
	if v == "" {
		return "", fmt.Errorf("%w: no %q value (truncated, or another machine's?)", ErrMalformed, key)
	}
	return v, nil
}
