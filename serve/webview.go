package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/serve/ui"
)

// maxUIRepositories bounds the repositories the web view lists.
const maxUIRepositories = 500

// viewSource is the web view's Source: the embedded registry's
// repositories, and any index read through the backends as the untailored
// view reads it (in-process, so the view needs no login).
type viewSource struct{ s *Server }

var _ ui.Source = viewSource{}

func (v viewSource) Repositories(ctx context.Context) ([]ui.Repository, error) {
	if v.s.emb == nil {
		return nil, nil // a mirror: the view lists what it served
	}
	names, err := v.s.emb.reg.Repositories(ctx)
	if err != nil {
		return nil, err
	}
	if len(names) > maxUIRepositories {
		names = names[:maxUIRepositories]
	}
	out := make([]ui.Repository, 0, len(names))
	for _, n := range names {
		tags, err := v.s.emb.reg.Tags(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, ui.Repository{Name: n, Tags: tags})
	}
	return out, nil
}

// Index reads repo:tag; on a mirror, repo starts with the upstream's name,
// as viewName recorded it.
func (v viewSource) Index(ctx context.Context, repo, tag string) (*ui.Index, error) {
	rt := &route{repo: repo, ref: tag}
	if v.s.emb != nil {
		rt.be = v.s.emb
	} else if up, rest, ok := strings.Cut(repo, "/"); ok && v.s.remotes[up] != nil {
		rt.be, rt.repo = v.s.remotes[up], rest
	} else {
		return nil, fmt.Errorf("%s: not an upstream of this mirror", repo)
	}
	src, err := v.s.source(ctx, rt)
	if err != nil {
		var re *regError
		if errors.As(err, &re) && re.Status == http.StatusNotFound {
			return nil, fmt.Errorf("%s:%s: %w", repo, tag, ui.ErrNotFound)
		}
		return nil, err
	}
	d, err := v1.NewHash(src.m.digest.String())
	if err != nil {
		return nil, err
	}
	if !isIndex(src.m.mediaType) {
		mf, err := v1.ParseManifest(bytes.NewReader(src.m.body))
		if err != nil {
			return nil, err
		}
		return &ui.Index{Digest: d, MediaType: types.MediaType(src.m.mediaType), Image: mf}, nil
	}
	idx := src.idx
	if idx == nil {
		if idx, err = v1.ParseIndexManifest(bytes.NewReader(src.m.body)); err != nil {
			return nil, err
		}
	}
	return &ui.Index{Digest: d, MediaType: types.MediaType(src.m.mediaType), Manifests: idx.Manifests, Annotations: idx.Annotations}, nil
}

// Image reads repo@d and its config through the server itself, as an
// untailored client would (in-process: the view needs no login).
func (v viewSource) Image(ctx context.Context, repo string, d v1.Hash) (*ui.Image, error) {
	body, err := v.get(ctx, "/v2/"+repo+"/manifests/"+d.String(), maxUIManifest,
		mediaOCIManifest+", "+mediaDockerImage)
	if err != nil {
		return nil, err
	}
	mf, err := v1.ParseManifest(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	img := &ui.Image{Manifest: mf}
	if mf.Config.Size <= maxUIConfig {
		if cb, err := v.get(ctx, "/v2/"+repo+"/blobs/"+mf.Config.Digest.String(), maxUIConfig, ""); err == nil {
			img.Config, _ = v1.ParseConfigFile(bytes.NewReader(cb))
		}
	}
	return img, nil
}

// Bounds of what the view reads of one image.
const (
	maxUIManifest = 4 << 20
	maxUIConfig   = 1 << 20
)

// get answers a GET of path by the server's own handler, untailored.
func (v viewSource) get(ctx context.Context, path string, limit int64, accept string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set(ProfileHeader, ProfileNone)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.RemoteAddr = "127.0.0.1:0"
	w := &bufferWriter{header: http.Header{}, code: http.StatusOK, limit: limit}
	v.s.ServeHTTP(w, req)
	if w.code != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d", path, w.code)
	}
	if w.over {
		return nil, fmt.Errorf("GET %s: more than %d bytes", path, limit)
	}
	return w.body.Bytes(), nil
}

// bufferWriter is the ResponseWriter of an in-process request: it keeps at
// most limit bytes of the body.
type bufferWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
	limit  int64
	over   bool
}

func (b *bufferWriter) Header() http.Header  { return b.header }
func (b *bufferWriter) WriteHeader(code int) { b.code = code }
func (b *bufferWriter) Write(p []byte) (int, error) {
	if int64(b.body.Len()+len(p)) > b.limit {
		b.over = true
		return 0, errors.New("too large")
	}
	return b.body.Write(p)
}

// Settings are the server's settings the view shows.
func (v viewSource) Settings() []ui.Setting {
	o := v.s.o
	def := "none given: clients must name one (login, /v2/_p/, Tailor-Profile)"
	switch {
	case o.profile == untailored:
		def = "none (indexes untouched: a plain mirror)"
	case o.profile != nil:
		def = o.profile.String()
	}
	login := "off: docker/podman login changes nothing here; start with --login for profiles by login"
	if o.login {
		login = "on: the login's user name is the client's profile"
	}
	out := []ui.Setting{{Name: "default profile", Value: def}, {Name: "login", Value: login}}
	if o.htpasswd != nil {
		out = append(out, ui.Setting{Name: "pushes", Value: "users of the htpasswd file (token flow)"})
	} else {
		out = append(out, ui.Setting{Name: "pushes", Value: "from loopback only"})
	}
	if len(o.upstreams) == 0 {
		out = append(out, ui.Setting{Name: "registry", Value: "embedded (no upstream)"})
	}
	for i, u := range o.upstreams {
		name := "upstream"
		if i == 0 {
			name = "upstream (default)"
		}
		out = append(out, ui.Setting{Name: name, Value: u.String()})
	}
	if v.s.cache != nil {
		n, b := v.s.cache.store.Usage()
		out = append(out, ui.Setting{Name: "cache", Value: fmt.Sprintf("%s of %s used, %d blobs and manifests", ui.Bytes(b), ui.Bytes(o.cacheSize), n)})
	}
	return out
}

// viewName is the repository a manifest-by-tag answer is logged under:
// the embedded registry's name, or the upstream's name and the repository.
func viewName(rt *route) string {
	if _, ok := rt.be.(*embedded); ok {
		return rt.repo
	}
	return rt.be.name() + "/" + rt.repo
}

// viewProfile names the profile an answer is logged under: none, a named
// profile's name, else its spec form.
func (s *Server) viewProfile(p *profile.Profile) string {
	if p == untailored {
		return ProfileNone
	}
	for n, q := range s.o.profiles {
		if q == p {
			return n
		}
	}
	return p.String()
}
