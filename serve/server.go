package serve

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/internal/metrics"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/serve/auth"
	"github.com/tailor-dev/tailor/serve/ui"
	"golang.org/x/sync/singleflight"
)

// Server is the tailoring registry. It is an http.Handler.
type Server struct {
	o             *options
	remotes       map[string]*upstreamBackend
	defaultRemote *upstreamBackend
	emb           *embedded
	store         *store
	answers       *memCache[any]                    // tailored answers by answerKey and by digest
	memo          *answerMemo                       // choices per (index digest, profile class) (answers.go)
	recent        *lru.Cache[string, *tagState]     // upstream tags as last read
	sources       *sourceCache                      // parsed sources, by digest (tagstate.go)
	recipes       *lru.Cache[digest.Digest, recipe] // how each answer was made (recipes.go)
	tagRecords    *tagRecords
	cache         *cache // content cache of a proxying server; nil when off
	m             *serverMetrics
	metricsH      http.Handler
	view          *ui.Handler // the web view, nil when off
	viewLog       *ui.Log     // the answers it shows

	tokens *auth.Signer // the token flow, on with an htpasswd file; nil when off
	logins *auth.Throttle

	specs          *lru.Cache[string, *profile.Profile] // parsed client specs
	flight         singleflight.Group
	listenLoopback atomic.Int32 // 0 unknown, 1 loopback, 2 beyond
}

// Bounds of the server's state.
const (
	// maxSpecs bounds the parsed client specs kept.
	maxSpecs = 1024
	// tailoredStoreBytes bounds the tailored indexes kept on disk.
	tailoredStoreBytes = 64 << 20
	// answersMemBytes bounds the tailored answers kept in memory.
	answersMemBytes = 32 << 20
	// maxRecentTags bounds the upstream tags kept in memory (their
	// sources, up to 4 MiB each, are mostly a few KiB).
	maxRecentTags = 4096
)

// cleanTemp removes the temporary files a crash left at the top of the
// storage (a half-made token key).
func cleanTemp(storage string) {
	leftovers, _ := filepath.Glob(filepath.Join(storage, ".token.key-*"))
	for _, f := range leftovers {
		_ = os.Remove(f)
	}
}

var _ http.Handler = (*Server)(nil)

// New builds a Server. Storage is required (WithStorage).
func New(opts ...Option) (*Server, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, inputError{err}
	}
	s := &Server{o: o, remotes: map[string]*upstreamBackend{}, logins: auth.NewThrottle(nil)}
	s.specs, _ = lru.New[string, *profile.Profile](maxSpecs)
	reg := metrics.NewRegistry()
	if s.m, err = newMetrics(reg); err != nil {
		return nil, err
	}
	s.metricsH = reg.Handler()
	if s.store, err = newStore(o.storage, tailoredStoreBytes); err != nil {
		return nil, err
	}
	s.answers = newMemCache[any](answersMemBytes)
	s.memo = newAnswerMemo()
	s.recent, _ = lru.New[string, *tagState](maxRecentTags)
	s.sources = newSourceCache(sourceMemBytes)
	s.recipes = newRecipes()
	if s.tagRecords, err = newTagRecords(o.storage); err != nil {
		return nil, err
	}
	cleanTemp(o.storage)
	if o.htpasswd != nil {
		key, err := auth.LoadKey(filepath.Join(o.storage, tokenKeyFile))
		if err != nil {
			return nil, err
		}
		if s.tokens, err = auth.NewSigner(key, nil); err != nil {
			return nil, err
		}
	}
	if len(o.upstreams) > 0 && o.cacheSize > 0 {
		if s.cache, err = newCache(context.Background(), o.storage, o.cacheSize, o); err != nil {
			return nil, err
		}
		s.m.cacheUsage(s.cache.store)
		s.tagRecords.cache = s.cache
	}
	for _, up := range o.upstreams {
		r, err := newRemote(up, o, s.m, s.cache)
		if err != nil {
			return nil, inputError{err}
		}
		s.remotes[up.Name] = r
		if s.defaultRemote == nil {
			s.defaultRemote = r
		}
	}
	if len(o.upstreams) == 0 {
		if s.emb, err = newEmbedded(context.Background(), o.storage, o.logger, o.gcInterval); err != nil {
			return nil, err
		}
	}
	if o.ui {
		s.viewLog = ui.OpenLog(filepath.Join(o.storage, "ui", "answers.json"), 0, o.logger)
		if s.view, err = ui.New(viewSource{s}, s.viewLog, ui.WithLogger(o.logger)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// ServeHTTP answers /healthz, /metrics, the registry API under /v2/ and,
// with an htpasswd file, the token endpoint /token.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
		return
	case "/metrics":
		s.metricsH.ServeHTTP(w, r)
		return
	case "/":
		if s.view != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			http.Redirect(w, r, ui.DefaultPrefix, http.StatusFound)
			return
		}
	}
	if s.view != nil && strings.HasPrefix(r.URL.Path, ui.DefaultPrefix) {
		s.view.ServeHTTP(w, r)
		return
	}
	rec := &recorder{ResponseWriter: w, code: http.StatusOK}
	start := time.Now()
	kind := "invalid"
	defer func() {
		p := recover()
		if p != nil {
			rec.code = 499 // cut off
		}
		s.m.requests.WithLabelValues(kind, methodLabel(r.Method), strconv.Itoa(rec.code)).Inc()
		if lvl := requestLevel(r, kind, rec.code); s.o.logger.Enabled(r.Context(), lvl) {
			s.o.logger.LogAttrs(r.Context(), lvl, "request",
				slog.String("method", clip(r.Method, maxLogMethod)), slog.String("path", clip(r.URL.Path, maxLogPath)),
				slog.String("ns", r.URL.Query().Get("ns")), slog.Int("status", rec.code),
				slog.Int64("bytes", rec.n), slog.Duration("duration", time.Since(start)))
		}
		if p != nil {
			panic(p)
		}
	}()
	w = rec
	s.limitBody(w, r)
	if s.tokens != nil && r.URL.Path == tokenPath {
		kind = "token"
		s.serveToken(w, r)
		return
	}
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	rt, rerr := s.parseRoute(r)
	if rerr != nil {
		rerr.Write(w, r)
		return
	}
	kind = rt.kind
	var c *auth.Claims
	if s.tokens != nil {
		if c = s.authorize(w, r, rt); c == nil {
			return
		}
	}
	s.serveRoute(w, r, rt, c)
}

// requestLevel is the level of a request's log line: debug for a
// successful read of the registry API (the bulk of a busy mirror's
// requests, counted in tailor_serve_requests_total), info for the rest:
// failures, pushes, logins.
func requestLevel(r *http.Request, kind string, code int) slog.Level {
	if code < 400 && kind != "token" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// serveRoute answers a registry request; c is its token's claims when
// the token flow is on (already checked to cover the request).
func (s *Server) serveRoute(w http.ResponseWriter, r *http.Request, rt *route, c *auth.Claims) {
	write := r.Method != http.MethodGet && r.Method != http.MethodHead
	if write {
		if err := s.checkWriteProfile(r, rt); err != nil {
			err.Write(w, r)
			return
		}
		if rt.kind == routeBase || rt.be == nil || !rt.be.writable() {
			newError(http.StatusMethodNotAllowed, codeUnsupported, "this repository is served from an upstream: push to the upstream", nil).Write(w, r)
			return
		}
		if c == nil {
			if err := s.canPush(r); err != nil {
				s.challenge(w, r, err)
				return
			}
		}
		rt.be.forward(w, r, rt.repo, rt.tail)
		return
	}
	p, err := s.clientProfile(r, rt.profile, c)
	if err != nil {
		s.challenge(w, r, err)
		return
	}
	switch rt.kind {
	case routeBase:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
	case routeCatalog:
		if s.emb == nil {
			newError(http.StatusNotFound, codeUnsupported, "no catalog in mirror mode", nil).Write(w, r)
			return
		}
		s.emb.serveRoot(w, r)
	case routeManifest:
		s.serveManifest(w, r, rt, p)
	default:
		if u, ok := rt.be.(*upstreamBackend); ok && rt.kind == routeBlob && s.cache != nil {
			s.serveBlob(w, r, u, rt.repo, rt.tail, digest.Digest(rt.ref))
			return
		}
		rt.be.forward(w, r, rt.repo, rt.tail)
	}
}

// bodyIdle is how long a request body may stall before the connection is
// cut (a body announced and never sent held a connection forever);
// bodyMinRate is the average rate, after the first bodyIdle, below which
// it is cut too (a body trickling a byte every 10 s held it as long).
const (
	bodyIdle    = 30 * time.Second
	bodyMinRate = 1 << 10 // bytes per second
)

// limitBody cuts r's connection when its body makes no progress for
// s.o.bodyIdle, or arrives slower on average than s.o.bodyMinRate once
// the first s.o.bodyIdle is past: a read that brings bytes moves the read
// deadline on only while the body keeps that rate. Large uploads take as
// long as they flow.
func (s *Server) limitBody(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(s.o.bodyIdle)) != nil {
		return
	}
	now := time.Now()
	r.Body = &idleBody{ReadCloser: r.Body, rc: rc, idle: s.o.bodyIdle, minRate: s.o.bodyMinRate, start: now}
}

// idleBody moves the connection's read deadline on as bytes arrive, at
// most once a second, while they arrive at minRate on average (counted
// from idle after the start).
type idleBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	idle    time.Duration
	minRate int64 // bytes per second
	start   time.Time
	n       int64
	moved   time.Time
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.n += int64(n)
		if now := time.Now(); now.Sub(b.moved) > time.Second && b.keepsRate(now) {
			b.moved = now
			_ = b.rc.SetReadDeadline(now.Add(b.idle))
		}
	}
	return n, err
}

// keepsRate reports whether the body came at minRate on average since
// its first idle period ended.
func (b *idleBody) keepsRate(now time.Time) bool {
	late := now.Sub(b.start) - b.idle
	return late <= 0 || float64(b.n) >= float64(b.minRate)*late.Seconds()
}

// challenge writes err, with an HTTP Basic challenge when it is a 401.
func (s *Server) challenge(w http.ResponseWriter, r *http.Request, err *regError) {
	if err.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", realm)
	}
	err.Write(w, r)
}

// Run serves on ln until ctx ends, then shuts down gracefully (in-flight
// requests get 30 s).
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	if isLoopback(ln.Addr()) {
		s.listenLoopback.Store(1)
	} else {
		s.listenLoopback.Store(2)
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.o.logger.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() {
		if s.o.tlsCert != "" {
			errc <- srv.ServeTLS(ln, s.o.tlsCert, s.o.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// recorder notes the status and size of an answer.
type recorder struct {
	http.ResponseWriter
	code  int
	n     int64
	wrote bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.n += int64(n)
	return n, err
}

// ReadFrom hands a file (a stored blob, through http.ServeContent's
// io.Copy) to the connection's ReadFrom, which sends it with sendfile(2);
// anything else it copies through a pooled 256 KiB buffer (32 KiB writes
// otherwise).
func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if rf, ok := r.ResponseWriter.(io.ReaderFrom); ok && isFile(src) {
		r.wrote = true
		n, err := rf.ReadFrom(src)
		r.n += n
		return n, err
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	return io.CopyBuffer(onlyWriter{r}, src, *bp)
}

// isFile reports whether src is a file sendfile(2) can send: a
// syscall.Conn that is not a network connection, or a limited reader of
// one (http.ServeContent sends ranges through io.LimitReader).
func isFile(src io.Reader) bool {
	if lr, ok := src.(*io.LimitedReader); ok {
		src = lr.R
	}
	_, isConn := src.(net.Conn)
	_, ok := src.(syscall.Conn)
	return ok && !isConn
}

// onlyWriter hides ReadFrom, so io.CopyBuffer uses its buffer.
type onlyWriter struct{ io.Writer }

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush passes flushes on.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
