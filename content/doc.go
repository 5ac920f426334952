// Package content is a content-addressed blob store on local disk: the
// blob storage of tailor's embedded registry and the blob cache of a
// proxying tailor serve.
//
// Layout under the root directory:
//
//	<root>/sha256/<hex>   a blob, named by its digest (sha512/<hex> likewise)
//	<root>/tmp/           writers' temporary files (same filesystem)
//	<root>/lock           held (flock) while a Store is open
//
// A blob appears under its digest only whole and verified: a Writer hashes
// while it streams into a temporary file and renames it into place only
// after the digest (and the size, when given) matched; Close without a
// Commit removes the temporary file. A committed blob survives a power
// loss: the file is synced before the rename and the directory after
// (package durable; tested with a file system that drops what was not
// synced, WithFS). Temporary files left by a crash are removed by New
// (unless another Store holds the root). sha256 is hashed while
// streaming; a sha512 digest is checked by reading the temporary file
// once more at Commit.
//
// The API:
//
//	s, err := content.New(ctx, root, content.WithMaxSize(n))  // n = 0: never evict
//	w, err := s.NewWriter(ctx); w.Write(...); info, err := w.Commit(ctx, dgst, size); w.Close()
//	info, err := s.Put(ctx, dgst, size, r)         // Writer, copy, Commit in one
//	b, err := s.Fill(ctx, dgst, size, fetch)       // single-flight fill, then Open
//	b, err := s.Open(ctx, dgst)                    // io.ReadSeeker + io.ReaderAt, Size; Close it
//	info, err := s.Stat(ctx, dgst); err = s.Delete(ctx, dgst); err = s.Walk(ctx, fn)
//	n, bytes := s.Usage(); s.Close()
//
// With a size bound (WithMaxSize) the store evicts the least recently used
// blobs after each Commit until its total is within the bound. Use (Open,
// Fill, Put of a blob already there) marks a blob recent in memory and, at
// most once a minute per blob, on disk by its modification time, so
// recency survives a restart: New rebuilds the order from the times. An
// open Blob is pinned: eviction passes over it until it is closed. Delete
// removes a blob even while it is open; on Linux, as on every Unix, the
// readers that have it open keep reading it whole, the name is gone for
// new readers. A blob larger than the bound is refused (ErrTooLarge).
//
// Errors name digests, never paths: an error from this package may be
// shown to a registry client. A full disk is ErrNoSpace (errors.Is); a
// digest mismatch is ErrDigestMismatch, a size mismatch ErrSizeMismatch,
// a digest this package does not parse ErrInvalidDigest, an absent blob
// ErrNotFound.
//
// One Store per root is the intended use. New takes a lock on the root;
// a second Store on the same root (in this process or another) still
// opens, but leaves the temporary files alone (they may be the first
// one's writes in progress) and logs a warning. Committed blobs are safe
// to share: both write whole, verified files by rename.
package content
