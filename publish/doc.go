// Package publish builds, imports and corrects tailor image indexes: plain
// OCI indexes whose entries carry their requirements as dev.tailor.*
// annotations (DESIGN.md §2), the generic build first.
//
// NewIndex turns entries into deterministic index bytes, so what a dry run
// prints is byte for byte what is pushed. ParseTag and ParseMetaHub read the
// conventions existing publishers use (cpu-skylake, cpu_broadwell-nvcap_52,
// generic, 1.2-x86-64-v3; MetaHub's manifest.yml); Annotate corrects one
// entry of an existing index. The registry side (Resolve, Push, ImportTags,
// FetchIndex) lives in remote.go.
package publish
