package registry

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tailor-dev/tailor/content"
	"github.com/tailor-dev/tailor/internal/durable"
)

// Registry is an OCI distribution registry over one directory. It is an
// http.Handler for /v2/ and safe for concurrent use.
type Registry struct {
	root  string
	o     *options
	blobs *content.Store
	locks [64]sync.Mutex // writers of one repository's metadata, by name hash
	gc    sync.RWMutex   // read: an import; write: the garbage collector (gc.go)

	pins       pins        // blobs requests are linking, kept from the collector (gc.go)
	collecting atomic.Bool // a collection runs

	up      uploads
	refused refusedAnswers // tailored answers refused lately (answers.go)

	stop     chan struct{}
	janitor  sync.WaitGroup
	stopOnce sync.Once
}

var _ http.Handler = (*Registry)(nil)

// New opens (creating it if need be) the registry stored under root:
// blobs in root/blobs (package content), repositories in
// root/repositories, temporary files in root/tmp. Temporary files and
// upload sessions left by an earlier run are removed, as are, in the
// background, stale upload sessions and blobs no repository links. Close
// it when done.
func New(ctx context.Context, root string, opts ...Option) (*Registry, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	reg := &Registry{root: root, o: o, stop: make(chan struct{})}
	reg.up.sessions = map[string]*session{}
	for _, d := range []string{reg.tmpDir(), reg.reposDir()} {
		if err := durable.MkdirAll(o.fs, d); err != nil {
			return nil, fmt.Errorf("registry storage %s: %w", root, err)
		}
	}
	if _, err := reg.removeTemps(); err != nil {
		return nil, fmt.Errorf("registry storage %s: removing temporary files of an earlier run: %w", root, err)
	}
	if reg.blobs, err = content.New(ctx, filepath.Join(root, "blobs"), content.WithLogger(o.logger), content.WithFS(o.fs)); err != nil {
		return nil, err
	}
	reg.janitor.Add(1)
	go reg.runJanitor()
	return reg, nil
}

// Close stops the janitor, drops the upload sessions and closes the
// blob store.
func (reg *Registry) Close() error {
	reg.stopOnce.Do(func() { close(reg.stop) })
	reg.janitor.Wait()
	reg.up.mu.Lock()
	for id, s := range reg.up.sessions {
		s.w.Close()
		delete(reg.up.sessions, id)
	}
	reg.up.held = holders{}
	reg.up.mu.Unlock()
	return reg.blobs.Close()
}

func (reg *Registry) tmpDir() string   { return filepath.Join(reg.root, "tmp") }
func (reg *Registry) reposDir() string { return filepath.Join(reg.root, "repositories") }

// lock serializes writers of one repository's metadata.
func (reg *Registry) lock(name string) func() {
	h := fnv.New32a()
	h.Write([]byte(name))
	m := &reg.locks[h.Sum32()%uint32(len(reg.locks))]
	m.Lock()
	return m.Unlock
}

// ServeHTTP answers the registry API under /v2/.
func (reg *Registry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	rt, base, catalog, err := parsePath(r.URL.Path)
	switch {
	case err != nil:
		err.Write(w, r)
	case base:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			errMethod(r).Write(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "2")
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte("{}"))
		}
	case catalog:
		reg.ServeCatalog(w, r)
	default:
		reg.serveRoute(w, r, rt)
	}
}

// ServeRepo answers r for repository name, tail being the path after
// /v2/<name>/ ("manifests/<ref>", "blobs/<digest>", "blobs/uploads/...",
// "tags/list", "referrers/<digest>"): for a caller that routed the
// request itself (tailor serve).
func (reg *Registry) ServeRepo(w http.ResponseWriter, r *http.Request, name, tail string) {
	rt, err := parseTail(name, tail)
	if err != nil {
		err.Write(w, r)
		return
	}
	reg.serveRoute(w, r, rt)
}

func (reg *Registry) serveRoute(w http.ResponseWriter, r *http.Request, rt route) {
	var err *Error
	switch rt.kind {
	case kindManifest:
		err = reg.serveManifest(w, r, rt)
	case kindBlob:
		err = reg.serveBlob(w, r, rt)
	case kindUploads:
		err = reg.startUpload(w, r, rt)
	case kindUpload:
		err = reg.serveUpload(w, r, rt)
	case kindTags:
		err = reg.serveTags(w, r, rt)
	case kindReferrers:
		err = reg.serveReferrers(w, r, rt)
	}
	if err != nil {
		err.Write(w, r)
	}
}

func errMethod(r *http.Request) *Error {
	return newError(http.StatusMethodNotAllowed, CodeUnsupported, "method not allowed here", r.Method)
}

// tempMaxAge is the age past which a file in tmp/ is a leftover: a
// metadata write takes milliseconds, and a younger file may be another
// process's write in progress (two servers on one storage).
const tempMaxAge = time.Minute

// removeTemps removes leftovers in tmp/ (at start and by the janitor).
func (reg *Registry) removeTemps() (int, error) {
	des, err := os.ReadDir(reg.tmpDir())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, de := range des {
		fi, err := de.Info()
		if err != nil || reg.o.now().Sub(fi.ModTime()) < tempMaxAge {
			continue
		}
		if err := os.RemoveAll(filepath.Join(reg.tmpDir(), de.Name())); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
