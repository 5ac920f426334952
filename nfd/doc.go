// Package nfd writes a host profile as Kubernetes node labels, for
// node-feature-discovery's local feature files (`tailor detect -o nfd`),
// and reads a profile back from a node's labels: tailor's own
// (tailor.dev/...), NFD's cpu-cpuid and cpu-model labels
// (feature.node.kubernetes.io/...), NVIDIA GPU feature discovery's
// (nvidia.com/...) and kubernetes.io/arch. A stock NFD hides baseline x86
// flags (SSE4.2, POPCNT, BMI, ...); Read adds those the flags it shows imply
// and those of the core its cpu-model names, and says what it inferred.
//
// It is the one place that knows tailor's label names. The labels carry
// everything matching reads from a profile (CPU target and lineage, vendor,
// every CPU feature, each NVIDIA compute capability with the driver, AMD gfx
// targets, host labels), so a profile read back from them matches indexes
// exactly as the profile they were written from; and they are shaped so a
// nodeAffinity can express every requirement (see the Key functions).
package nfd
