// Package registry provides tailor's own OCI registry: an http.Handler
// implementing the OCI distribution spec v1.1 over one directory, the
// embedded registry of `tailor serve` when it has no upstream.
//
// It serves /v2/ (ping), manifests by tag and digest (GET, HEAD, PUT,
// DELETE; OCI and Docker media types, at most 4 MiB however sent, the
// Content-Type given at PUT echoed at GET, references checked as
// distribution does, `subject` answered with OCI-Subject and listed by
// the referrers API, ?tag= on a PUT by digest), blobs (GET and HEAD with
// Range, DELETE), uploads (monolithic POST ?digest=, mounts with ?from=
// (without, a session: nothing is mounted, as distribution does), sessions: PATCH chunks checked against Content-Range,
// 416 out of order, PUT to finish, GET status, DELETE cancel), tags/list
// and _catalog with n/last pagination and Link headers, and referrers
// with the artifactType filter.
//
// Names, tags and digests are read strictly (the spec's name grammar at
// most 255 bytes, tags [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}, sha256 or sha512
// in lower-case hex); anything else is a 4xx with the OCI error body
// {"errors":[{"code","message","detail"}]}, never a panic, and no answer
// holds a path of the server. A full disk is 507.
//
// Storage (root is the directory given to New):
//
//	root/blobs/          blobs by digest (package content): whole and verified, or absent
//	root/repositories/   per repository: tags, manifest and blob links, referrers (meta.go)
//	root/tmp/            metadata being written; leftovers removed at start and later
//
// Every metadata file and blob is written durably (package durable:
// written to a temporary file, synced, renamed into place, the directory
// synced; new directories synced into their parents), so a crash never
// leaves one half-written, and what the registry acknowledged (201) is
// there after a power loss (tested with a file system that drops what
// was not synced). Upload sessions live in memory, bounded in number,
// size and age (WithUploadLimits, WithMaxBlobSize); a failed, cancelled
// or expired upload leaves no file; a restart drops them.
// A DELETE removes a repository's link or manifest; the janitor's garbage
// collection (gc.go, WithGCInterval, hourly by default) marks what the
// remaining manifests reference and removes every other blob not linked
// within the last hour, so deleting an image gives its layers' space
// back. It never makes pushes wait.
//
// ImportDistribution takes over a storage written by the distribution
// registry (tailor's embedded registry before it had its own).
//
// Registry.GetManifest is the Go call behind a manifest GET, and
// ServeRepo answers a request its caller routed already; tailor serve
// uses both.
package registry
