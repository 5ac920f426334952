// Package forces embeds the demo workload: an all-pairs Lennard-Jones force
// loop in C (src/forces.c) and the tailor.yaml that builds it for every x86-64
// level. `tailor demo` builds it from here, so it runs from any directory.
package forces

import "embed"

// FS holds src/forces.c and tailor.yaml.
//
//go:embed src/forces.c tailor.yaml
var FS embed.FS
