package serve

import (
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/opencontainers/go-digest"
)

// errDigestMismatch is returned by a verifyingReader whose bytes do not
// hash to the digest they were asked for.
var errDigestMismatch = errors.New("content does not match its digest")

// verifyingReader hashes what it reads and checks it against want. The
// check happens BEFORE the last bytes are handed out: when size is known,
// the read that reaches size is verified first and, on a mismatch,
// returns no bytes at all, so a client never receives a complete body of
// wrong content. When size is unknown (-1) the check happens at EOF; the
// response is then chunked and aborting it leaves the client with a
// truncated transfer.
type verifyingReader struct {
	r    io.Reader
	h    hash.Hash
	want digest.Digest
	size int64
	n    int64
	err  error
}

// newVerifyingReader checks r against want (sha256, sha384 or sha512) and,
// when size >= 0, against size.
func newVerifyingReader(r io.Reader, want digest.Digest, size int64) (*verifyingReader, error) {
	if err := want.Validate(); err != nil {
		return nil, fmt.Errorf("digest %q: %w", want, err)
	}
	return &verifyingReader{r: r, h: want.Algorithm().Hash(), want: want, size: size}, nil
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	switch {
	case v.size >= 0 && v.n > v.size:
		v.err = fmt.Errorf("%w: more than the %d bytes announced", errDigestMismatch, v.size)
		return 0, v.err
	case (v.size >= 0 && v.n == v.size) || errors.Is(err, io.EOF):
		if v.size >= 0 && v.n < v.size {
			v.err = fmt.Errorf("%w: %d of %d bytes", io.ErrUnexpectedEOF, v.n, v.size)
			return 0, v.err
		}
		if got := digest.NewDigest(v.want.Algorithm(), v.h); got != v.want {
			v.err = fmt.Errorf("%w: got %s, want %s", errDigestMismatch, got, v.want)
			return 0, v.err
		}
		v.err = io.EOF
		return n, io.EOF
	case err != nil:
		v.err = err
		return n, err
	}
	return n, nil
}

// copyBufs are the buffers blobs are streamed through.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// copyStream copies src to dst through a pooled buffer and returns the
// bytes written.
func copyStream(dst io.Writer, src io.Reader) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	return io.CopyBuffer(dst, onlyReader{src}, *bp)
}

// onlyReader hides WriterTo/ReaderFrom so io.CopyBuffer uses the buffer
// and every byte passes through the verifying reader.
type onlyReader struct{ io.Reader }
