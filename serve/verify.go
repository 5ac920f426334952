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
	return v.check(p[:n], err)
}

// check takes p, the next bytes of the source, and err, the error of the
// read that returned them. It hashes p and returns how many of its bytes
// may be handed on (all, or none when they complete a body that fails the
// check) and the error to report (io.EOF once the body is complete and
// verified).
func (v *verifyingReader) check(p []byte, err error) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n := len(p)
	v.h.Write(p)
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

// copyBufSize is the size of the buffers blobs are streamed through.
const copyBufSize = 256 << 10

// copyBufs are the buffers blobs are streamed through.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// pipelineMin is the smallest verified body copied by a pipeline: below
// it the goroutines cost more than they save.
const pipelineMin = 1 << 20

// copyStream copies src to dst and returns the bytes written. A
// verifyingReader of a large or unknown size goes through a pipeline
// (see pipeline); anything else is copied through one pooled buffer.
func copyStream(dst io.Writer, src io.Reader) (int64, error) {
	if v, ok := src.(*verifyingReader); ok && (v.size < 0 || v.size >= pipelineMin) {
		return pipeline(dst, v)
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	return io.CopyBuffer(dst, onlyReader{src}, *bp)
}

// onlyReader hides WriterTo/ReaderFrom so io.CopyBuffer uses the buffer
// and every byte passes through the verifying reader.
type onlyReader struct{ io.Reader }
