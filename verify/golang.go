package verify

import (
	"debug/buildinfo"
	"strconv"
	"strings"
)

// goBuild is what a Go program's build information says of its CPU
// floor: the runtime of a GOAMD64=v2 or higher build checks the CPU before
// anything else runs and refuses a lower one ("This program can only be
// run on AMD64 processors with v3 microarchitecture support."), an
// enforced check like ld.so's.
type goBuild struct {
	version string // go1.26.1
	level   int    // 1 to 4: GOAMD64 (v1 when unset)
}

// readGoBuild reads the build information of the Go program at local;
// ok is false for a program that is not Go (or has none).
func readGoBuild(local string) (goBuild, bool) {
	bi, err := buildinfo.ReadFile(local)
	if err != nil {
		return goBuild{}, false
	}
	g := goBuild{version: bi.GoVersion, level: 1}
	for _, s := range bi.Settings {
		if s.Key == "GOAMD64" {
			if n, err := strconv.Atoi(strings.TrimPrefix(s.Value, "v")); err == nil && n >= 1 && n <= 4 {
				g.level = n
			}
		}
	}
	return g, true
}
