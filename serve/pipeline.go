package serve

import "io"

// chunk is a pooled buffer holding n bytes and the error that came with
// them.
type chunk struct {
	buf *[]byte
	n   int
	err error
}

// pipelineDepth is how many chunks wait between two stages. A stream
// holds at most 2*pipelineDepth+3 buffers (one per stage, the rest
// queued): 1.25 MiB, whatever the blob size.
const pipelineDepth = 1

// pipeline copies v to dst in three stages that overlap: reading chunk
// N+2 from the source, hashing chunk N+1, writing chunk N to dst. The
// hashing stage is v.check, so the guarantee of verifyingReader stands: a
// chunk reaches the writer only after check released it, and check
// releases the chunk that completes the body only once the digest
// matches. On any error the writer stops, reports it and tells the other
// stages to stop; a stage blocked in the source's Read ends when the
// source does (the caller closes it, or the request's context ends).
func pipeline(dst io.Writer, v *verifyingReader) (int64, error) {
	return stages(dst, v.r, v.check)
}

// stages copies src to dst through check (see pipeline): check gets each
// chunk read and the read's error, and returns how many of its bytes go on
// to dst and the error to stop with (io.EOF: done).
func stages(dst io.Writer, src io.Reader, check func([]byte, error) (int, error)) (int64, error) {
	done := make(chan struct{})
	defer close(done)
	read := make(chan chunk, pipelineDepth)
	checked := make(chan chunk, pipelineDepth)
	go readChunks(src, read, done)
	go checkChunks(check, read, checked, done)
	var written int64
	for c := range checked {
		if c.n > 0 {
			n, err := dst.Write((*c.buf)[:c.n])
			written += int64(n)
			if err == nil && n < c.n {
				err = io.ErrShortWrite
			}
			if err != nil {
				copyBufs.Put(c.buf)
				return written, err
			}
		}
		copyBufs.Put(c.buf)
		if c.err == io.EOF {
			return written, nil
		}
		if c.err != nil {
			return written, c.err
		}
	}
	return written, io.ErrUnexpectedEOF // not reached: checkChunks ends with an error chunk
}

// readChunks reads src into pooled buffers until an error (io.EOF
// included) or done.
func readChunks(src io.Reader, out chan<- chunk, done <-chan struct{}) {
	for {
		bp := copyBufs.Get().(*[]byte)
		n, err := src.Read(*bp)
		select {
		case out <- chunk{bp, n, err}:
		case <-done:
			copyBufs.Put(bp)
			return
		}
		if err != nil {
			return
		}
	}
}

// checkChunks passes each chunk through check: it is hashed (or stored)
// and handed on with what check releases, until check reports an error or
// io.EOF.
func checkChunks(check func([]byte, error) (int, error), in <-chan chunk, out chan<- chunk, done <-chan struct{}) {
	for {
		var c chunk
		select {
		case c = <-in:
		case <-done:
			return
		}
		c.n, c.err = check((*c.buf)[:c.n], c.err)
		select {
		case out <- c:
		case <-done:
			copyBufs.Put(c.buf)
			return
		}
		if c.err != nil {
			return
		}
	}
}
