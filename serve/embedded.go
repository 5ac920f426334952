package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/registry"
)

// embedded is the built-in registry: tailor's own (package registry),
// storage under <storage>/oci. A storage the distribution registry wrote
// there before tailor had its own (<storage>/registry) is imported once.
type embedded struct {
	reg    *registry.Registry
	bodies *memCache[digest.Digest] // manifest bodies by digest (they never change)
}

// embeddedBodiesBytes bounds the manifest bodies the embedded backend
// keeps in memory.
const embeddedBodiesBytes = 16 << 20

var _ backend = (*embedded)(nil)

// WithGCInterval sets how often the embedded registry removes the blobs
// no manifest references (default registry.DefaultGCInterval; 0: never).
func WithGCInterval(every time.Duration) Option {
	return func(o *options) error {
		if every < 0 {
			return fmt.Errorf("garbage collection interval %s: must not be negative", every)
		}
		o.gcInterval = &every
		return nil
	}
}

func newEmbedded(ctx context.Context, storage string, logger *slog.Logger, gcEvery *time.Duration) (*embedded, error) {
	opts := []registry.Option{registry.WithLogger(logger)}
	if gcEvery != nil {
		opts = append(opts, registry.WithGCInterval(*gcEvery))
	}
	reg, err := registry.New(ctx, filepath.Join(storage, "oci"), opts...)
	if err != nil {
		return nil, fmt.Errorf("embedded registry: %w", err)
	}
	if _, err := reg.ImportDistribution(ctx, filepath.Join(storage, "registry")); err != nil {
		reg.Close()
		return nil, fmt.Errorf("embedded registry: %w", err)
	}
	return &embedded{reg: reg, bodies: newMemCache[digest.Digest](embeddedBodiesBytes)}, nil
}

func (e *embedded) name() string   { return "embedded" }
func (e *embedded) writable() bool { return true }

// getManifest reads a manifest in-process: the tag and link from disk
// (a push or delete shows at once), the body from memory when it was read
// before.
func (e *embedded) getManifest(ctx context.Context, repo, ref string) (*manifest, error) {
	if d, mt, err := e.reg.ResolveManifest(ctx, repo, ref); err == nil {
		if m, ok := e.bodies.get(d); ok && m.mediaType == mt {
			return m, nil
		}
	}
	m, err := e.reg.GetManifest(ctx, repo, ref)
	var re *registry.Error // the protocol's error, as serve's (distspec)
	if errors.As(err, &re) {
		return nil, re
	}
	if err != nil {
		return nil, newError(http.StatusInternalServerError, codeUnknown, "embedded registry storage error", nil)
	}
	mf := &manifest{mediaType: m.MediaType, digest: m.Digest, body: m.Body}
	e.bodies.add(mf.digest, mf)
	return mf, nil
}

// forward hands the request to the embedded registry.
func (e *embedded) forward(w http.ResponseWriter, r *http.Request, repo, tail string) {
	e.reg.ServeRepo(w, r, repo, tail)
}

// serveRoot answers /v2/_catalog.
func (e *embedded) serveRoot(w http.ResponseWriter, r *http.Request) {
	e.reg.ServeCatalog(w, r)
}
