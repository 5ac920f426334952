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
}

var _ http.Handler = (*Handler)(nil)

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
	return &Handler{src: src, log: log, o: o}, nil
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
		h.home(ctx, w)
	case "index":
		repo, tag := r.URL.Query().Get("repo"), r.URL.Query().Get("tag")
		if len(repo) > 255 || !repoName.MatchString(repo) || !remote.ValidTag(tag) {
			h.fail(w, http.StatusBadRequest, "bad repository or tag", fmt.Sprintf("%.80q:%.80q is not a repository:tag", repo, tag))
			return
		}
		h.index(ctx, w, repo, tag)
	default:
		h.fail(w, http.StatusNotFound, "not found", r.URL.Path)
	}
}

func (h *Handler) home(ctx context.Context, w http.ResponseWriter) {
	d := homeData{Title: h.o.title, Prefix: h.o.prefix, Answers: h.log.Answers()}
	repos, err := h.src.Repositories(ctx)
	if err != nil {
		h.o.logger.Warn("ui: listing repositories", "err", err)
		d.Error = err.Error()
	}
	d.Repositories = repos
	if len(repos) == 0 {
		d.Repositories, d.Recent = h.log.Images(), true
	}
	h.render(w, http.StatusOK, homeTemplate(), d)
}

func (h *Handler) index(ctx context.Context, w http.ResponseWriter, repo, tag string) {
	idx, err := h.src.Index(ctx, repo, tag)
	if err != nil {
		status := http.StatusBadGateway
		if errors.Is(err, ErrNotIndex) {
			status = http.StatusUnprocessableEntity
		}
		h.o.logger.Warn("ui: reading index", "repo", repo, "tag", tag, "err", err)
		h.fail(w, status, repo+":"+tag, err.Error())
		return
	}
	mx, err := resolve.MatrixOf(repo+":"+tag, idx.Digest, idx.MediaType, idx.Manifests, h.o.targets)
	if err != nil {
		h.fail(w, http.StatusInternalServerError, repo+":"+tag, err.Error())
		return
	}
	var answers []Answer
	for _, a := range h.log.Answers() {
		if a.Repository == repo && a.Tag == tag {
			answers = append(answers, a)
		}
	}
	h.render(w, http.StatusOK, indexTemplate(), newIndexData(h.o, repo, tag, mx, answers))
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
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fail writes an error page.
func (h *Handler) fail(w http.ResponseWriter, status int, what, detail string) {
	h.render(w, status, errorTemplate(), struct{ Title, Prefix, What, Detail string }{h.o.title, h.o.prefix, what, detail})
}
