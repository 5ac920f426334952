package detect

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Sentinel errors, returned wrapped with context; check them with errors.Is.
var (
	// ErrMalformed is returned for a dump that cannot be read: empty,
	// binary, garbled, truncated, or lacking a line detection needs.
	ErrMalformed = errors.New("malformed input")
	// ErrUnknownMachine is returned for a machine name (uname -m) that is
	// not one of x86_64, aarch64, ppc64, ppc64le, riscv64 (or their OCI
	// spellings amd64, arm64).
	ErrUnknownMachine = errors.New("unknown machine")
	// ErrNoTarget is returned when no catalog target fits the CPU.
	ErrNoTarget = errors.New("no compatible target")
	// ErrUnsupported is returned by host probes on an operating system
	// detection does not know.
	ErrUnsupported = errors.New("unsupported operating system")
)

// Machine families detection knows, as uname -m spells them.
const (
	MachineX86_64  = "x86_64"
	MachineAArch64 = "aarch64"
	MachinePPC64   = "ppc64"
	MachinePPC64LE = "ppc64le"
	MachineRISCV64 = "riscv64"
)

// Operating systems a dump can come from.
const (
	OSLinux  = "linux"
	OSDarwin = "darwin"
)

// CPUInfo is what a cpuinfo or sysctl dump says about a processor.
type CPUInfo struct {
	// OS is the operating system the dump comes from: "linux" or "darwin".
	OS string
	// Machine is the architecture family, as uname -m spells it on Linux:
	// x86_64, aarch64, ppc64, ppc64le or riscv64.
	Machine string
	// Vendor is the CPU vendor in catalog naming: GenuineIntel,
	// AuthenticAMD, ARM, Apple, Fujitsu, IBM, SiFive, ...; empty if unknown.
	Vendor string
	// Model is the model name or brand string, as the dump gives it.
	Model string
	// Features are the CPU flags in Linux /proc/cpuinfo naming, sorted.
	Features []string
	// Part is the ARM "CPU part" code (0xd4f), lower case; empty elsewhere.
	Part string
	// Generation is the POWER generation (7, 8, 9, 10); 0 elsewhere.
	Generation int
	// Name is the core a dump names directly: the RISC-V uarch (u74mc, x60)
	// or the Apple silicon model from a macOS brand string (m1, m3; aarch64
	// for a brand string that names no M model).
	Name string
	// Hypervisor is the hypervisor the CPU reports (KVM, Hyper-V, ...);
	// empty on bare metal and for dumps.
	Hypervisor string
	// Disagreement is set on a live host whose /proc/cpuinfo and CPU
	// disagree (see Reconcile); nil for dumps.
	Disagreement *Disagreement
}

// HasFeature reports whether the CPU has flag f (Linux naming).
func (c *CPUInfo) HasFeature(f string) bool {
	return slices.Contains(c.Features, f)
}

// setFeatures stores fs sorted and deduplicated.
func (c *CPUInfo) setFeatures(fs []string) {
	fs = slices.Clone(fs)
	slices.Sort(fs)
	c.Features = slices.Compact(fs)
}

// clone returns a deep copy of c, so cached host probes stay unchanged.
func (c *CPUInfo) clone() *CPUInfo {
	out := *c
	out.Features = slices.Clone(c.Features)
	if c.Disagreement != nil {
		d := *c.Disagreement
		d.Missing, d.Extra = slices.Clone(d.Missing), slices.Clone(d.Extra)
		out.Disagreement = &d
	}
	return &out
}

// NormalizeMachine returns the family for a machine name: uname -m
// spellings and the OCI names amd64 and arm64 are accepted.
func NormalizeMachine(machine string) (string, error) {
	switch m := strings.ToLower(strings.TrimSpace(machine)); m {
	case MachineX86_64, MachineAArch64, MachinePPC64, MachinePPC64LE, MachineRISCV64:
		return m, nil
	case "amd64", "x86-64":
		return MachineX86_64, nil
	case "arm64":
		return MachineAArch64, nil
	}
	return "", fmt.Errorf("%w %q (want x86_64, aarch64, ppc64, ppc64le or riscv64)", ErrUnknownMachine, machine)
}

// checkText rejects input that is empty or not text.
func checkText(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("%w: empty input", ErrMalformed)
	}
	for i := 0; i < len(data); {
		if c := data[i]; c >= 0x20 && c < 0x7f || c == '\n' || c == '\t' || c == '\r' {
			i++ // printable ASCII, the common case
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return fmt.Errorf("%w: binary data (invalid UTF-8 at byte %d)", ErrMalformed, i)
		}
		if r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r == 0x7f {
			return fmt.Errorf("%w: binary data (control byte %#02x at byte %d)", ErrMalformed, r, i)
		}
		i += size
	}
	return nil
}

// flagTokens splits a flags value into tokens, rejecting any that cannot be
// a flag name.
func flagTokens(key, value string) ([]string, error) {
	fs := strings.Fields(value)
	for _, f := range fs {
		if !isFlagName(f) {
			return nil, fmt.Errorf("%w: %q value: %q is not a flag name", ErrMalformed, key, f)
		}
	}
	return fs, nil
}

func isFlagName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	return nameChars(s)
}

// nameChars reports whether s holds only the characters of flag and sysctl
// names: letters, digits, '_', '.' and '-'.
func nameChars(s string) bool {
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}
