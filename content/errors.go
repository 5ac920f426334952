package content

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/opencontainers/go-digest"
)

// Errors callers branch on (errors.Is).
var (
	// ErrNotFound: no blob with that digest.
	ErrNotFound = errors.New("blob not found")
	// ErrInvalidDigest: not a digest this store parses (ParseDigest).
	ErrInvalidDigest = errors.New("invalid digest")
	// ErrDigestMismatch: the bytes written do not have the digest given.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSizeMismatch: the bytes written are not the size given.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrTooLarge: the blob is larger than the store's size bound.
	ErrTooLarge = errors.New("blob larger than the store's size bound")
	// ErrNoSpace: the filesystem under the store is full (ENOSPC, EDQUOT).
	ErrNoSpace = errors.New("no space left on the registry's storage")
	// ErrClosed: the Store or Writer was closed.
	ErrClosed = errors.New("closed")
)

// sysErr turns an error of the os package into one that names the
// operation and the digest but not the path (the message may reach a
// registry client), and that is ErrNoSpace when the disk is full.
func sysErr(op string, d digest.Digest, err error) error {
	if err == nil {
		return nil
	}
	var (
		pe *fs.PathError
		le *os.LinkError
		se *os.SyscallError
	)
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	case errors.As(err, &se):
		err = se.Err
	}
	where := op
	if d != "" {
		where += " " + string(d)
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("content: %s: %w (%w)", where, ErrNoSpace, err)
	}
	return fmt.Errorf("content: %s: %w", where, err)
}
