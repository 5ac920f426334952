package catalog

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ErrNoFlags is returned (wrapped) when a compiler or compiler version
// cannot build for a target.
var ErrNoFlags = errors.New("no compiler flags")

// FlagEntries returns (a copy of) t's flags for compiler by version range,
// as archspec lists them; nil for a compiler t has none for.
func (t *Target) FlagEntries(compiler string) []FlagEntry {
	for _, c := range t.flags {
		if c.compiler == compiler {
			return slices.Clone(c.entries)
		}
	}
	return nil
}

// Compilers lists the compilers t has flags for, sorted.
func (t *Target) Compilers() []string {
	out := make([]string, 0, len(t.flags))
	for _, c := range t.flags {
		out = append(out, c.compiler)
	}
	sort.Strings(out)
	return out
}

// CompilerFlags returns the flags that make compiler (gcc, clang, ...) at
// version build code for t. When several version ranges hold, the one with
// the newest lower bound wins, since newer compilers know the target by name.
func (t *Target) CompilerFlags(compiler, version string) (string, error) {
	entries := t.FlagEntries(compiler)
	if len(entries) == 0 {
		return "", fmt.Errorf("%w: target %s has none for compiler %q (it has: %s)", ErrNoFlags, t.Name(), compiler, strings.Join(t.Compilers(), ", "))
	}
	v, err := parseVersion(version)
	if err != nil {
		return "", fmt.Errorf("compiler version %q: %w", version, err)
	}
	best := -1
	var bestMin []int
	for i, e := range entries {
		lo, hi, _ := strings.Cut(e.Versions, ":")
		loV, _ := parseVersion(lo)
		if lo != "" && compareVersions(v, loV) < 0 {
			continue
		}
		if hi != "" {
			hiV, _ := parseVersion(hi)
			if !versionAtMost(v, hiV) {
				continue
			}
		}
		if best < 0 || compareVersions(loV, bestMin) > 0 {
			best, bestMin = i, loV
		}
	}
	if best < 0 {
		var ranges []string
		for _, e := range entries {
			ranges = append(ranges, e.Versions)
		}
		return "", fmt.Errorf("%w: %s %s cannot build for %s (supported versions: %s)", ErrNoFlags, compiler, version, t.Name(), strings.Join(ranges, ", "))
	}
	return entries[best].Flags, nil
}

func parseVersion(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ".")
	out := make([]int, 0, len(parts))
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("want dotted numbers like 12.2.0")
		}
		out = append(out, n)
	}
	return out, nil
}

func compareVersions(a, b []int) int {
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// versionAtMost treats hi as a prefix bound: 11.0.4 is at most 11.0.
func versionAtMost(v, hi []int) bool {
	if len(v) > len(hi) {
		v = v[:len(hi)]
	}
	return compareVersions(v, hi) <= 0
}
