//go:build unix

package serve

import "golang.org/x/sys/unix"

// enoughSpace reports whether the filesystem of dir has room for n more
// bytes and a margin (64 MiB), so a fill does not start that a full disk
// would cut.
func enoughSpace(dir string, n int64) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return true // unknown: let the write tell
	}
	free := int64(st.Bavail) * int64(st.Bsize) //nolint:unconvert // field types differ by platform
	return free-n > 64<<20
}
