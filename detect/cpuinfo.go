package detect

import (
	"fmt"
	"strings"
)

// maxDump caps how much of a dump is read; a /proc/cpuinfo of a few hundred
// cores is well under it.
const maxDump = 16 << 20

// ParseCPUInfo reads a Linux /proc/cpuinfo dump of the machine named by
// machine (uname -m: x86_64, aarch64, ppc64, ppc64le, riscv64; amd64 and
// arm64 are accepted). An empty machine is inferred from the text where it
// is unambiguous. Only the first processor block is read, as archspec does.
func ParseCPUInfo(data []byte, machine string) (*CPUInfo, error) {
	info, err := parseCPUInfo(data, machine)
	if err != nil {
		return nil, fmt.Errorf("parsing cpuinfo: %w", err)
	}
	return info, nil
}

func parseCPUInfo(data []byte, machine string) (*CPUInfo, error) {
	if len(data) > maxDump {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformed, len(data), maxDump)
	}
	if err := checkText(data); err != nil {
		return nil, err
	}
	fields, err := firstBlock(withoutBOM(data))
	if err != nil {
		return nil, err
	}
	if machine == "" {
		if machine, err = inferCPUInfoMachine(fields); err != nil {
			return nil, err
		}
	}
	family, err := NormalizeMachine(machine)
	if err != nil {
		return nil, err
	}
	info := &CPUInfo{OS: OSLinux, Machine: family}
	switch family {
	case MachineX86_64:
		err = parseX86(info, fields)
	case MachineAArch64:
		err = parseARM(info, fields)
	case MachinePPC64, MachinePPC64LE:
		err = parsePower(info, fields)
	case MachineRISCV64:
		err = parseRISCV(info, fields)
	}
	if err != nil {
		return nil, err
	}
	return info, nil
}

// withoutBOM returns data as a string without the byte order mark an
// editor may have put first.
func withoutBOM(data []byte) string {
	return strings.TrimPrefix(string(data), "\ufeff")
}

// firstBlock returns the "key : value" pairs of the first processor block:
// the lines up to the first blank line that follows data. The first value
// of a key wins.
func firstBlock(text string) (map[string]string, error) {
	fields := map[string]string{}
	n := 0
	for line := range strings.Lines(text) {
		n++
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) == "" {
			if len(fields) > 0 {
				break
			}
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		key = strings.TrimSpace(key)
		if !ok || !isKey(key) {
			return nil, fmt.Errorf("%w: line %d: want \"key : value\", got %q", ErrMalformed, n, clip(line))
		}
		if _, dup := fields[key]; !dup {
			fields[key] = strings.TrimSpace(value)
		}
	}
	return fields, nil
}

// isKey reports whether s can be a cpuinfo or sysctl key.
func isKey(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune(" \t_-.()/", r)
		if !ok {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	const limit = 40
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}

// inferCPUInfoMachine tells the family from the keys only one family has.
func inferCPUInfoMachine(fields map[string]string) (string, error) {
	has := func(k string) bool { _, ok := lookup(fields, k); return ok }
	get := func(k string) string { v, _ := lookup(fields, k); return v }
	switch {
	case has("vendor_id") && has("flags"):
		return MachineX86_64, nil
	case has("CPU implementer") || has("Features"):
		return MachineAArch64, nil
	case strings.HasPrefix(strings.ToLower(get("isa")), "rv64"):
		return MachineRISCV64, nil
	case powerPattern.MatchString(get("cpu")):
		return "", fmt.Errorf("%w: a POWER cpuinfo does not tell ppc64 from ppc64le, give the machine", ErrUnknownMachine)
	}
	return "", fmt.Errorf("%w: cannot tell the machine from the cpuinfo text, give it", ErrUnknownMachine)
}

// lookup returns the value of key: the line of that exact name, or else
// one whose name differs only in case ("Flags", "features"), as dumps
// retyped or passed through other tools have.
func lookup(fields map[string]string, key string) (string, bool) {
	if v, ok := fields[key]; ok {
		return v, true
	}
	for k, v := range fields {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

// require returns the value of key (see lookup), or an error naming the
// missing line.
func require(fields map[string]string, key, family string) (string, error) {
	v, ok := lookup(fields, key)
	if !ok {
		return "", fmt.Errorf("%w: no %q line in the first processor block of a %s cpuinfo (truncated, or another machine's?)", ErrMalformed, key, family)
	}
	if v == "" {
		return "", fmt.Errorf("%w: %q line is empty", ErrMalformed, key)
	}
	return v, nil
}
