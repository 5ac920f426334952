// Package nfd renders a host profile as node-feature-discovery labels:
// the lines of a local feature file (features.d) that NFD turns into node
// labels under tailor.dev/, so Kubernetes scheduling, `tailor fleet` and
// `tailor affinity` can use what `tailor detect` found on each node.
package nfd
