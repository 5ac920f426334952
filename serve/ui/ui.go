package ui

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/tailor-dev/tailor/internal/lazyre"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/resolve"
)

// DefaultPrefix is where the view is mounted.
const DefaultPrefix = "/ui/"

// Option configures New.
type Option func(*options) error

type options struct {
	prefix  string
	targets []string
	timeout time.Duration
	logger  *slog.Logger
	title   string
}

// WithPrefix mounts the view under prefix (default DefaultPrefix; it must
// start and end with /).
func WithPrefix(prefix string) Option {
	return func(o *options) error {
		if !strings.HasPrefix(prefix, "/") || !strings.HasSuffix(prefix, "/") {
			return fmt.Errorf("ui: prefix %q must start and end with /", prefix)
		}
		o.prefix = prefix
		return nil
	}
}

// WithTargets sets the matrix's rows: catalog targets or profile specs
// (default resolve.DefaultTargets).
func WithTargets(targets ...string) Option {
	return func(o *options) error {
		if _, err := resolve.MatrixOf("", v1.Hash{}, "", nil, targets); err != nil {
			return fmt.Errorf("ui: %w", err)
		}
		o.targets = targets
		return nil
	}
}

// WithTimeout bounds the reads of one page from the Source (default 10s).
func WithTimeout(d time.Duration) Option {
	return func(o *options) error { o.timeout = d; return nil }
}

// WithLogger reports Source failures to l (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { o.logger = l; return nil }
}

// WithTitle names the server in the page titles (default "tailor serve").
func WithTitle(t string) Option {
	return func(o *options) error { o.title = t; return nil }
}

// Handler serves the view.
type Handler struct {
	src Source
	log *Log
	o   options
	// pages caches what an index page reads and computes (the matrix, the
	// entries' images) by the index's digest: an index is immutable.
	pages *lru.Cache[v1.Hash, *indexParts]
	// builds bounds the index pages computed at once.
	builds chan struct{}
}

var _ http.Handler = (*Handler)(nil)

// Bounds of one page's work and size: an index of 12,000 entries costs
// what one of maxEntryRows costs, once per digest.
const (
	// maxEntryRows bounds the entries listed (and matched: the matrix is
	// computed on them).
	maxEntryRows = 200
	// maxMatrixColumns bounds the entries drawn as matrix columns.
	maxMatrixColumns = 24
	// maxDetailed bounds the entries whose image (size, date, layers) is read.
	maxDetailed = 32
	// maxAnswerRows bounds the handed-out rows shown.
	maxAnswerRows = 200
	// cachedPages is how many indexes' parts are kept.
	cachedPages = 64
	// concurrentBuilds bounds the index pages computed at once.
	concurrentBuilds = 2
)

// New returns the view of src and log (log may be nil: nothing handed out
// is shown).
func New(src Source, log *Log, opts ...Option) (*Handler, error) {
	o := options{prefix: DefaultPrefix, timeout: 10 * time.Second, logger: slog.New(slog.DiscardHandler), title: "tailor serve"}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if src == nil {
		return nil, errors.New("ui: no source")
	}
	pages, _ := lru.New[v1.Hash, *indexParts](cachedPages)
	return &Handler{src: src, log: log, o: o, pages: pages, builds: make(chan struct{}, concurrentBuilds)}, nil
}

// Repository and tag syntax of the distribution spec, bounded.
var (
	// A mirror's images start with the upstream's name, a host[:port].
	repoName = lazyre.New(`^([A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]+)?/)?[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
)

// ServeHTTP answers GET and HEAD of the home page and of index pages.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.o.timeout)
	defer cancel()
	switch strings.TrimPrefix(r.URL.Path, h.o.prefix) {
	case "":
		q := r.URL.Query().Get("q")
		if len(q) > 128 {
			q = q[:128]
		}
		h.home(ctx, w, r.Host, q)
	case "index":
		repo, tag := r.URL.Query().Get("repo"), r.URL.Query().Get("tag")
		if len(repo) > 255 || !repoName.MatchString(repo) || !remote.ValidTag(tag) {
			h.fail(w, http.StatusBadRequest, "bad repository or tag", fmt.Sprintf("%.80q:%.80q is not a repository:tag", repo, tag))
			return
		}
		h.index(ctx, w, r.Host, repo, tag)
	default:
		h.fail(w, http.StatusNotFound, "not found", r.URL.Path)
	}
}

func (h *Handler) home(ctx context.Context, w http.ResponseWriter, host, q string) {
	d := homeData{Title: h.o.title, Prefix: h.o.prefix, Query: q, Host: host}
	d.Answers, d.MoreAnswers = capAnswers(h.log.Answers())
	if ss, ok := h.src.(SettingsSource); ok {
		d.Settings = ss.Settings()
	}
	repos, err := h.src.Repositories(ctx)
	if err != nil {
		h.o.logger.Warn("ui: listing repositories", "err", err)
		d.Error = err.Error()
	}
	if len(repos) == 0 {
		repos, d.Recent = h.log.Images(), true
	}
	d.Total = len(repos)
	d.Repositories = search(repos, q)
	h.render(w, http.StatusOK, homeTemplate(), d)
}

// search keeps the repositories whose name, or one of whose tags,
// contains q (all of them for an empty q).
func search(repos []Repository, q string) []Repository {
	if q == "" {
		return repos
	}
	q = strings.ToLower(q)
	var out []Repository
	for _, r := range repos {
		if strings.Contains(strings.ToLower(r.Name), q) {
			out = append(out, r)
			continue
		}
		var tags []string
		for _, t := range r.Tags {
			if strings.Contains(strings.ToLower(t), q) {
				tags = append(tags, t)
			}
		}
		if len(tags) > 0 {
			out = append(out, Repository{Name: r.Name, Tags: tags})
		}
	}
	return out
}

func capAnswers(as []Answer) ([]Answer, int) {
	if len(as) > maxAnswerRows {
		return as[:maxAnswerRows], len(as) - maxAnswerRows
	}
	return as, 0
}

func (h *Handler) index(ctx context.Context, w http.ResponseWriter, host, repo, tag string) {
	idx, err := h.src.Index(ctx, repo, tag)
	if err != nil {
		status := http.StatusBadGateway
		what := repo + ":" + tag
		switch {
		case errors.Is(err, ErrNotFound):
			status, what = http.StatusNotFound, repo+":"+tag+" not found"
		case errors.Is(err, ErrNotIndex):
			status = http.StatusOK
		}
		h.o.logger.Warn("ui: reading index", "repo", repo, "tag", tag, "err", err)
		h.fail(w, status, what, err.Error())
		return
	}
	var answers []Answer
	for _, a := range h.log.Answers() {
		if a.Repository == repo && a.Tag == tag {
			answers = append(answers, a)
		}
	}
	answers, more := capAnswers(answers)
	if idx.IsImage() {
		var img *Image
		if ir, ok := h.src.(ImageReader); ok {
			img, _ = ir.Image(ctx, repo, idx.Digest)
		}
		if img == nil {
			img = &Image{Manifest: idx.Image}
		}
		h.render(w, http.StatusOK, imageTemplate(), newImageData(h.o, host, repo, tag, idx, img, answers, more))
		return
	}
	parts, err := h.parts(ctx, repo, tag, idx)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			status = http.StatusServiceUnavailable
		}
		h.fail(w, status, repo+":"+tag, err.Error())
		return
	}
	h.render(w, http.StatusOK, indexTemplate(), newIndexData(h.o, host, repo, tag, idx, parts, answers, more))
}

// indexParts is what an index page computes once per index digest.
type indexParts struct {
	matrix *resolve.Matrix
	// total is the index's number of entries (the matrix has at most
	// maxEntryRows of them).
	total  int
	images []*Image // per matrix entry; nil where not read
}

// parts returns the matrix and entry images of idx, from the cache or
// computed (at most concurrentBuilds at once).
func (h *Handler) parts(ctx context.Context, repo, tag string, idx *Index) (*indexParts, error) {
	if p, ok := h.pages.Get(idx.Digest); ok {
		return p, nil
	}
	select {
	case h.builds <- struct{}{}:
		defer func() { <-h.builds }()
	case <-ctx.Done():
		return nil, fmt.Errorf("the view is busy computing other pages: %w", ctx.Err())
	}
	if p, ok := h.pages.Get(idx.Digest); ok {
		return p, nil
	}
	manifests := idx.Manifests
	if len(manifests) > maxEntryRows {
		manifests = manifests[:maxEntryRows]
	}
	mx, err := resolve.MatrixOf(repo+":"+tag, idx.Digest, idx.MediaType, manifests, h.o.targets)
	if err != nil {
		return nil, err
	}
	p := &indexParts{matrix: mx, total: len(idx.Manifests), images: make([]*Image, len(mx.Entries))}
	if ir, ok := h.src.(ImageReader); ok {
		for i, e := range mx.Entries {
			if i >= maxDetailed || ctx.Err() != nil {
				break
			}
			if img, err := ir.Image(ctx, repo, e.Digest); err == nil {
				p.images[i] = img
			} else {
				h.o.logger.Debug("ui: reading an entry", "repo", repo, "digest", e.Digest, "err", err)
			}
		}
	}
	if ctx.Err() == nil {
		h.pages.Add(idx.Digest, p)
	}
	return p, nil
}

// render writes template t of data; it renders before the status line,
// so a template failure is a 500, not half a page.
func (h *Handler) render(w http.ResponseWriter, status int, t *template.Template, data any) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		h.o.logger.Error("ui: rendering", "err", err)
		http.Error(w, "rendering failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fail writes an error page.
func (h *Handler) fail(w http.ResponseWriter, status int, what, detail string) {
	h.render(w, status, errorTemplate(), struct{ Title, Prefix, What, Detail string }{h.o.title, h.o.prefix, what, detail})
}
