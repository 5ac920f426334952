package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/content"
)

// The content cache of a proxying server (DESIGN.md §4): blobs and
// manifests by digest from upstreams, in a content.Store under
// <storage>/cache/content, bounded by WithCacheSize (least recently used
// first), kept across restarts. A blob is stored only whole and verified
// (content commits by rename after the digest matched). Concurrent
// requests for a blob not cached share one upstream fetch (content.Fill):
// the first client gets the bytes as they arrive, verified as a
// pass-through verifies them (the last chunk only once the digest
// matched); the others are served from disk once the blob is stored. Content is addressed by digest alone, so a
// blob fetched through one repository or upstream serves every other that
// names it: every client already reads what the server's own upstream
// credentials read.

// errCacheSkip makes a fill give up before it streams anything: the blob
// is passed through instead (larger than the cache, or the disk is full).
var errCacheSkip = errors.New("blob not cached")

// noSpacePause is how long the cache is bypassed after a full disk.
const noSpacePause = time.Minute

// cache wraps the content store with the bypass of a full disk.
type cache struct {
	store    *content.Store
	noSpace  atomic.Int64 // unix nanoseconds until which fills are skipped
	inflight atomic.Int64 // bytes of fills in progress (their temporary files)
}

// reserve counts n more bytes of fills in progress, unless that would
// pass half the store's bound: the store keeps what it committed within
// its bound, and the temporary files of concurrent fills (60 fills of a
// 40M cache peaked at ~10x on disk) within half of it more, so a blob
// larger than half the bound is never cached. A fill that cannot reserve
// passes its blob through uncached.
func (c *cache) reserve(n int64) bool {
	max := c.store.MaxSize()
	if max <= 0 {
		return true
	}
	for {
		cur := c.inflight.Load()
		if cur+n > max/2 {
			return false
		}
		if c.inflight.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

func (c *cache) unreserve(n int64) { c.inflight.Add(-n) }

func newCache(ctx context.Context, storage string, maxSize int64, o *options) (*cache, error) {
	st, err := content.New(ctx, filepath.Join(storage, "cache", "content"), content.WithMaxSize(maxSize), content.WithLogger(o.logger))
	if err != nil {
		return nil, fmt.Errorf("content cache: %w", err)
	}
	return &cache{store: st}, nil
}

// filling reports whether fills are on (not paused by a full disk).
func (c *cache) filling() bool { return time.Now().UnixNano() >= c.noSpace.Load() }

// failed notes a failed store: a full disk pauses fills.
func (c *cache) failed(err error) {
	if errors.Is(err, content.ErrNoSpace) {
		c.noSpace.Store(time.Now().Add(noSpacePause).UnixNano())
	}
}

// manifest reads the manifest d from the cache, nil when it is not there.
func (c *cache) manifest(ctx context.Context, d digest.Digest) *manifest {
	b, err := c.store.Open(ctx, d)
	if err != nil {
		return nil
	}
	defer b.Close()
	if b.Info().Size > maxManifestSize {
		return nil
	}
	body, err := io.ReadAll(b)
	if err != nil {
		return nil
	}
	return &manifest{body: body, digest: d, mediaType: mediaTypeOf(body, "")}
}

// putManifest keeps m (checked against its digest by the store).
func (c *cache) putManifest(ctx context.Context, m *manifest) error {
	if !c.filling() {
		return nil
	}
	_, err := c.store.Put(ctx, m.digest, int64(len(m.body)), bytes.NewReader(m.body))
	c.failed(err)
	return err
}

// serveBlob answers a blob of an upstream from the cache, filling it
// first when it is not there.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, u *upstreamBackend, repo, tail string, d digest.Digest) {
	c := s.cache
	if b, err := c.store.Open(r.Context(), d); err == nil {
		s.m.cache.WithLabelValues("hit").Inc()
		serveCached(w, r, b)
		return
	}
	if r.Method == http.MethodHead || !c.filling() {
		s.m.cache.WithLabelValues("bypass").Inc()
		u.forward(w, r, repo, tail)
		return
	}
	// A Range request is answered from disk once the blob is there: only
	// a stored blob can be cut into verified ranges.
	lw := &leaderWriter{w: w, noStream: r.Header.Get("Range") != ""}
	defer lw.finish()
	var led atomic.Bool // this request's fetch ran (on the fill's goroutine)
	b, err := c.store.Fill(r.Context(), d, -1, func(ctx context.Context, cw io.Writer) error {
		led.Store(true)
		return s.fetchBlob(ctx, u, repo, tail, d, cw, lw)
	})
	leader := led.Load()
	if err == nil {
		lw.release() // a digest only the store's commit checks (sha512)
	}
	begun, sent, whole := lw.state()
	switch {
	case whole:
		// The client has its blob; a failed store only costs the cache.
		s.m.cache.WithLabelValues("miss").Inc()
		switch {
		case err != nil && r.Context().Err() != nil && errors.Is(err, r.Context().Err()):
			// The client went once it had every byte, before the commit
			// it had no need to wait for: the fill runs on in its own
			// context (content.Fill) and stores the blob. No store error.
			s.o.logger.Debug("blob served; the client left before it was stored", "digest", d.String())
		case err != nil:
			s.m.storeErrors.Inc()
			s.o.logger.Warn("blob served but not cached", "digest", d.String(), "err", err)
		default:
			b.Close()
		}
	case begun && !sent:
		// Nothing reached the client yet (a small blob is kept back whole
		// until verified): a clean error, not an empty reply.
		s.o.logger.Warn("blob fill failed before any byte was sent", "upstream", u.name(), "repo", repo, "digest", d.String(), "err", err)
		if err == nil {
			b.Close()
		}
		for _, k := range []string{"Content-Type", "Content-Length", "Docker-Content-Digest", "Etag"} {
			w.Header().Del(k)
		}
		newError(http.StatusBadGateway, codeUnavailable, "upstream "+u.name()+": the blob's bytes are not its digest", nil).Write(w, r)
	case begun:
		// Part of a blob that failed its digest or was cut off: the client
		// must not get a complete-looking body.
		s.o.logger.Warn("blob fill failed after streaming began", "upstream", u.name(), "repo", repo, "digest", d.String(), "err", err)
		if err == nil {
			b.Close()
		}
		panic(http.ErrAbortHandler)
	case err == nil:
		s.m.cache.WithLabelValues(map[bool]string{true: "miss", false: "shared"}[leader]).Inc()
		serveCached(w, r, b)
	case errors.Is(err, errCacheSkip) || errors.Is(err, content.ErrTooLarge) || errors.Is(err, content.ErrNoSpace):
		c.failed(err)
		s.m.cache.WithLabelValues("bypass").Inc()
		u.forward(w, r, repo, tail)
	default:
		var re *regError
		if errors.As(err, &re) {
			re.Write(w, r)
			return
		}
		s.o.logger.Warn("blob fill failed", "upstream", u.name(), "repo", repo, "digest", d.String(), "err", err)
		newError(http.StatusBadGateway, codeUnavailable, "upstream "+u.name()+": the blob could not be fetched", nil).Write(w, r)
	}
}

// fetchBlob is a fill: it GETs the blob from u and copies it, in
// overlapping stages, into cw (the store's writer, which hashes it as it
// writes) and on to the leading client lw, which keeps the chunk that
// completes the blob until the hash matched: when the store's running
// sha256 is the digest, before the store syncs and commits (the client
// does not wait for the disk to flush); for other digests, after the
// commit. One hash per byte, as a pass-through.
func (s *Server) fetchBlob(ctx context.Context, u *upstreamBackend, repo, tail string, d digest.Digest, cw io.Writer, lw *leaderWriter) error {
	resp, err := u.do(ctx, http.MethodGet, repo, tail, nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	size := resp.ContentLength
	if max := s.cache.store.MaxSize(); max > 0 && size > max {
		return errCacheSkip
	}
	if size >= 0 && !enoughSpace(filepath.Join(s.o.storage, "cache"), size) {
		return fmt.Errorf("%w: %w", errCacheSkip, content.ErrNoSpace)
	}
	var reserved int64 // a size announced is reserved whole, else as it comes
	defer func() { s.cache.unreserve(reserved) }()
	if size >= 0 {
		if !s.cache.reserve(size) {
			return errCacheSkip
		}
		reserved = size
	}
	lw.start(size, d)
	var stored int64
	n, err := stages(lw, resp.Body, func(p []byte, rerr error) (int, error) {
		if size < 0 && len(p) > 0 {
			if !s.cache.reserve(int64(len(p))) {
				return 0, errCacheSkip
			}
			reserved += int64(len(p))
		}
		if len(p) > 0 {
			if _, err := cw.Write(p); err != nil {
				return 0, err
			}
			stored += int64(len(p))
		}
		if size >= 0 && stored > size {
			return 0, fmt.Errorf("%w: more than the %d bytes announced", errDigestMismatch, size)
		}
		return len(p), rerr
	})
	u.m.bytes.WithLabelValues(u.up.Name).Add(float64(n))
	if err != nil {
		return err
	}
	if h, ok := cw.(interface{ Digest() digest.Digest }); ok && d.Algorithm() == digest.SHA256 {
		if h.Digest() != d || (size >= 0 && stored != size) {
			u.m.upstreamErrors.WithLabelValues(u.up.Name, "digest").Inc()
			return fmt.Errorf("%w: got %s (%d bytes), want %s", errDigestMismatch, h.Digest(), stored, d)
		}
		lw.release() // verified: the client gets its last bytes now
	}
	return nil
}

// serveCached answers from a cached blob, Range requests included.
func serveCached(w http.ResponseWriter, r *http.Request, b *content.Blob) {
	defer b.Close()
	h := w.Header()
	d := b.Info().Digest.String()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Docker-Content-Digest", d)
	h.Set("Etag", `"`+d+`"`)
	http.ServeContent(w, r, "", time.Time{}, b)
}

// leaderWriter is the response of the client whose request started a
// fill: the fill's goroutine writes to it while the client's handler
// waits, so every use is under mu, and none after the handler is done.
// With a known size it streams what it is given but the bytes that
// complete the blob: those wait in tail for release.
type leaderWriter struct {
	mu       sync.Mutex
	w        http.ResponseWriter
	size     int64
	n        int64
	tail     []byte
	begun    bool // the headers are set: the blob streams to the client
	sent     bool // bytes went to the client (the status with them)
	noStream bool // the client is served from disk after the fill
	whole    bool // the client has the whole, verified blob
	broken   bool // a write to the client failed: the rest is not sent
	done     bool // the handler returned
}

// start sets the headers when the size is known (else the client is
// served from disk after the fill); they go out with the first bytes, so
// a fill that fails before any can still answer an error.
func (l *leaderWriter) start(size int64, d digest.Digest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.size = size
	if size < 0 || l.done || l.noStream {
		return
	}
	h := l.w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", fmt.Sprint(size))
	h.Set("Docker-Content-Digest", d.String())
	h.Set("Etag", `"`+d.String()+`"`)
	l.begun = true
}

// Write passes p on, keeping back the bytes that complete the blob. It
// never fails: the fill goes on for the others when this client is gone.
func (l *leaderWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.begun || l.broken || l.done {
		return len(p), nil
	}
	l.n += int64(len(p))
	if l.n >= l.size {
		l.tail = append(l.tail, p...)
		return len(p), nil
	}
	l.sent = true
	if _, err := l.w.Write(p); err != nil {
		l.broken = true
	}
	return len(p), nil
}

// release sends the kept-back bytes of a verified blob and flushes.
func (l *leaderWriter) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.begun || l.broken || l.done || l.whole || l.n != l.size {
		return
	}
	l.sent = true
	if _, err := l.w.Write(l.tail); err != nil {
		l.broken = true
		return
	}
	if f, ok := l.w.(http.Flusher); ok {
		f.Flush()
	}
	l.whole = true
}

// state is what the client got: streaming began, bytes were sent, and
// the whole blob.
func (l *leaderWriter) state() (begun, sent, whole bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.begun, l.sent, l.whole
}

// finish marks the handler done: the fill writes nothing more.
func (l *leaderWriter) finish() {
	l.mu.Lock()
	l.done = true
	l.mu.Unlock()
}
