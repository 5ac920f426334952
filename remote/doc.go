// Package remote is tailor's access to registries, built on
// go-containerregistry: credentials from the docker config and credential
// helpers, plain HTTP for loopback and insecure registries, retries of
// temporary errors with bounded backoff and an overall timeout. It fetches
// a manifest once, raw, and leaves the choice among an index's entries to
// package match: resolving a tag costs one manifest GET.
package remote
