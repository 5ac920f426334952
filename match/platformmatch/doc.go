// Package platformmatch adapts tailor's matching to the types of
// containerd and the OCI image-spec: a platforms.MatchComparer for
// programs that see only platforms, and a DescriptorComparer that ranks an
// index's image-spec descriptors as match.Match does. It is a package of
// its own so that importing match does not bring in containerd's
// dependencies.
package platformmatch
