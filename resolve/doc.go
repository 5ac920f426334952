// Package resolve turns an image reference into the entry that fits a host
// best: it fetches the manifest once (package remote), lets package match
// judge and rank an index's entries, and reports the choice pinned by
// digest. Inspect draws an index's variant matrix; Pull writes the chosen
// image to an OCI layout or a docker archive.
package resolve
