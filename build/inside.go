package build

import (
	"fmt"
	"path/filepath"
	"strings"
)

// insideDir checks that path (absolute) stays inside root, the build
// file's directory, as written and, when both exist, with symbolic links
// resolved: a build file from elsewhere must not copy the machine's files
// (../../etc/ssl/certs, a link to /) into an image.
func insideDir(root, path string) error {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	absPath, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if !within(absRoot, absPath) {
		return fmt.Errorf("%w: %s is outside the build file's directory %s: give a path inside it", ErrConfig, path, absRoot)
	}
	realRoot, err1 := filepath.EvalSymlinks(absRoot)
	realPath, err2 := filepath.EvalSymlinks(absPath)
	if err1 == nil && err2 == nil && !within(realRoot, realPath) {
		return fmt.Errorf("%w: %s leads outside the build file's directory %s (to %s, through a symbolic link): give a path inside it", ErrConfig, path, absRoot, realPath)
	}
	return nil
}

// within reports whether path is root or under it (both clean, absolute).
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
