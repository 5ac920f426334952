package serve

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem" // storage driver
	"github.com/sirupsen/logrus"
)

// embedded is the built-in registry: distribution/distribution as a
// library, filesystem storage under <storage>/registry.
type embedded struct {
	app http.Handler
}

var _ backend = (*embedded)(nil)

func newEmbedded(ctx context.Context, storage string) (*embedded, error) {
	logrus.SetOutput(io.Discard)
	cfg := &configuration.Configuration{
		Storage: configuration.Storage{
			"filesystem": configuration.Parameters{"rootdirectory": filepath.Join(storage, "registry")},
			"delete":     configuration.Parameters{"enabled": true},
			"redirect":   configuration.Parameters{"disable": true},
		},
	}
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	cfg.HTTP.Secret = "tailor-embedded" // upload state is only ever handed back to this process
	var app http.Handler
	var perr any
	func() {
		defer func() { perr = recover() }()
		app = handlers.NewApp(ctx, cfg)
	}()
	if perr != nil {
		return nil, fmt.Errorf("embedded registry: %v", perr)
	}
	return &embedded{app: app}, nil
}

func (e *embedded) name() string   { return "embedded" }
func (e *embedded) writable() bool { return true }

// getManifest asks the embedded registry in-process; manifests are small.
func (e *embedded) getManifest(ctx context.Context, repo, ref string) (*manifest, error) {
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v2/"+repo+"/manifests/"+ref, nil)
	for _, a := range allManifestTypes {
		req.Header.Add("Accept", a)
	}
	rec := httptest.NewRecorder()
	e.app.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, &passthroughError{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	}
	return newManifest(rec.Body.Bytes(), rec.Header().Get("Content-Type"), ref, "embedded registry")
}

// forward hands the request to the embedded registry with its path
// rewritten to /v2/<repo>/<tail> (no profile or upstream prefix).
func (e *embedded) forward(w http.ResponseWriter, r *http.Request, repo, tail string) {
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/v2/" + repo + "/" + tail
	r2.URL.RawPath = ""
	r2.RequestURI = r2.URL.RequestURI()
	r2.Header.Del("Authorization")
	if r.Method == http.MethodPut && len(tail) > 10 && tail[:10] == "manifests/" {
		if r.ContentLength > maxManifestSize {
			newError(http.StatusRequestEntityTooLarge, codeSizeInvalid, "manifest too large",
				fmt.Sprintf("%d bytes, the limit is %d", r.ContentLength, maxManifestSize)).write(w, r)
			return
		}
		r2.Body = http.MaxBytesReader(w, r.Body, maxManifestSize)
	}
	e.app.ServeHTTP(w, r2)
}

// serveRoot answers /v2/_catalog and other repository-less paths.
func (e *embedded) serveRoot(w http.ResponseWriter, r *http.Request) {
	r2 := r.Clone(r.Context())
	r2.Header.Del("Authorization")
	e.app.ServeHTTP(w, r2)
}

// passthroughError is a backend's own error answer, handed on as it is.
type passthroughError struct {
	status int
	header http.Header
	body   []byte
}

func (p *passthroughError) Error() string {
	return fmt.Sprintf("registry answered %d: %s", p.status, p.body)
}

func (p *passthroughError) write(w http.ResponseWriter, r *http.Request) {
	copyHeaders(w.Header(), p.header, "Content-Type")
	w.WriteHeader(p.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(p.body)
	}
}
