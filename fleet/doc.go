// Package fleet answers, for the nodes of a Kubernetes cluster, which build
// of an index each node gets (Plan), which nodes change build between two
// versions of an index (Compare), and which nodes a pod of an index with no
// generic entry may be placed on (Affinity); and it prepares a node for
// the tailor DaemonSet (SetupNode, CleanupNode: containerd hosts.toml
// mirrors and the NFD feature file).
//
// A node's host profile is read back from its labels by package nfd
// (tailor detect -o nfd, NFD's cpu-cpuid labels, kubernetes.io/arch), and
// every choice is made by resolve and match, so a node gets here exactly
// what `tailor resolve --profile` of its profile names. Nodes are read from
// `kubectl get nodes -o json` as a stream (ReadNodes) and grouped by the
// labels that matter (Classes), so a fleet costs its kinds of hardware,
// not its nodes.
package fleet
