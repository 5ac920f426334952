// Package serve provides tailor's tailoring registry: an OCI distribution
// API server that answers a manifest request by tag, for an index whose
// entries tailor can tell apart, with an index tailored to the client's
// host profile (DESIGN.md §4), and passes everything else through from
// configured upstream registries, streamed and digest-checked. With no
// upstream it is a complete registry of its own: tailor's registry
// package, in-process, with filesystem storage.
//
// A Server is an http.Handler; Run serves it on a listener and shuts it
// down gracefully when its context ends.
package serve
