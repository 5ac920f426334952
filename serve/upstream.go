package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/distspec"
	"github.com/tailor-dev/tailor/remote"
	"golang.org/x/sync/singleflight"
)

// Upstream is a registry tailor serves content from: its name (the
// containerd ?ns= value and path prefix that select it, docker.io) and
// base URL (https://registry-1.docker.io). A path in the URL is a
// repository prefix at the upstream: http://central:5000/ghcr.io asks the
// tailor server at central:5000 for ghcr.io/<name>, which that server's
// own upstream named ghcr.io answers (a chain of mirrors).
type Upstream struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// ParseUpstream reads NAME=URL.
func ParseUpstream(s string) (Upstream, error) {
	n, u, ok := strings.Cut(s, "=")
	if !ok || n == "" || u == "" {
		return Upstream{}, fmt.Errorf("upstream %q: want NAME=URL (docker.io=https://registry-1.docker.io)", redactUserinfo(s))
	}
	return Upstream{Name: n, URL: u}, nil
}

// String is NAME=URL without the URL's user and password, for logs.
func (u Upstream) String() string { return u.Name + "=" + redactUserinfo(u.URL) }

// upstreamBackend is a backend on an upstream registry.
type upstreamBackend struct {
	up       Upstream
	base     *url.URL      // scheme and host; Path is cleared
	prefix   string        // repository prefix at the upstream ("" none)
	reg      name.Registry // the host requests go to
	authReg  name.Registry // the registry credentials are looked up for
	keychain authn.Keychain
	creds    authn.Authenticator // from the URL's user:password; nil: the keychain's
	inner    http.RoundTripper
	guard    *guardTransport // inside inner (Close drops its idle connections)
	pingTO   time.Duration
	m        *serverMetrics
	log      *slog.Logger

	transports *lru.Cache[string, http.RoundTripper] // by repository
	group      singleflight.Group

	privateOnce sync.Once
	isPrivate   bool
	forcePublic bool // test seam: treat a loopback upstream as public

	cache *cache // manifests by digest; nil when off
}

var _ backend = (*upstreamBackend)(nil)

// maxTransports bounds the authenticated transports kept (one per
// repository: a token's scope is one repository).
const maxTransports = 4096

func newRemote(up Upstream, o *options, m *serverMetrics, c *cache) (*upstreamBackend, error) {
	u, err := url.Parse(up.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("upstream %s: URL %q: want http(s)://host[:port][/repository-prefix]", up.Name, redactUserinfo(up.URL))
	}
	var creds authn.Authenticator
	if u.User != nil {
		pass, _ := u.User.Password()
		creds = &authn.Basic{Username: u.User.Username(), Password: pass}
		u.User = nil // never in a log or message
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" && !distspec.ValidName(prefix) {
		return nil, fmt.Errorf("upstream %s: URL %q: the path must be a repository prefix (lower-case name components)", up.Name, up.URL)
	}
	u.Path, u.RawPath = "", ""
	var nopts []name.Option
	if u.Scheme == "http" {
		nopts = append(nopts, name.Insecure)
	}
	reg, err := name.NewRegistry(u.Host, nopts...)
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", up.Name, err)
	}
	authReg := reg
	if up.Name == "docker.io" || u.Host == "registry-1.docker.io" {
		authReg, _ = name.NewRegistry("index.docker.io")
	}
	b := &upstreamBackend{
		up: up, base: u, prefix: prefix, reg: reg, authReg: authReg, keychain: o.keychain, creds: creds,
		pingTO: o.upstreamTimeout, m: m, log: o.logger, forcePublic: o.publicUpstreams, cache: c,
	}
	b.transports, _ = lru.New[string, http.RoundTripper](maxTransports)
	// Every request (token requests included) asks a tailor upstream for
	// the untailored view: this server tailors for its own clients.
	b.guard = &guardTransport{u: b, base: o.transport, guarded: newGuardedTransport(o.upstreamTimeout)}
	b.inner = remote.ProfileTransport(b.guard, ProfileNone)
	return b, nil
}

// private reports whether the upstream is on a private network (then
// redirects may lead to private addresses too). It is found once, on the
// first redirect.
func (u *upstreamBackend) private(ctx context.Context) bool {
	u.privateOnce.Do(func() { u.isPrivate = !u.forcePublic && isPrivateHost(ctx, u.base.Hostname()) })
	return u.isPrivate
}

func (u *upstreamBackend) name() string   { return u.up.Name }
func (u *upstreamBackend) writable() bool { return false }

// transport returns the authenticating transport for repo (pull scope),
// created once per repository: the anonymous bearer token flow, or the
// docker config's credentials for the upstream.
func (u *upstreamBackend) transport(ctx context.Context, repo string) (http.RoundTripper, error) {
	if t, ok := u.transports.Get(repo); ok {
		return t, nil
	}
	v, err, _ := u.group.Do(repo, func() (any, error) {
		auth, err := u.keychain.Resolve(u.authReg)
		if err != nil {
			auth = authn.Anonymous
		}
		if u.creds != nil {
			auth = u.creds
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), u.pingTO)
		defer cancel()
		scope := u.reg.Repo(repo).Scope(transport.PullScope)
		t, err := transport.NewWithContext(ctx, u.reg, auth, u.inner, []string{scope})
		if err != nil {
			return nil, err
		}
		u.transports.Add(repo, t)
		return t, nil
	})
	if err != nil {
		return nil, u.unreachable(err)
	}
	return v.(http.RoundTripper), nil
}

// do sends method to /v2/<repo>/<tail> with the repository's transport
// (repo as this server names it: the upstream's prefix is added here).
// Redirects follow checkRedirect: off the upstream's host only for
// content named by digest.
func (u *upstreamBackend) do(ctx context.Context, method, repo, tail string, query url.Values, accept []string) (*http.Response, error) {
	repo = u.remoteRepo(repo)
	t, err := u.transport(ctx, repo)
	if err != nil {
		return nil, err
	}
	target := *u.base
	target.Path = "/v2/" + repo + "/" + tail
	target.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, method, target.String(), nil)
	if err != nil {
		return nil, err
	}
	for _, a := range accept {
		req.Header.Add("Accept", a)
	}
	client := &http.Client{Transport: t, CheckRedirect: u.checkRedirect(byDigest(tail))}
	resp, err := client.Do(req)
	if err != nil {
		return nil, u.unreachable(err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, u.statusError(resp, tail)
	}
	return resp, nil
}

// remoteRepo is repo as the upstream names it.
func (u *upstreamBackend) remoteRepo(repo string) string {
	if u.prefix == "" {
		return repo
	}
	return u.prefix + "/" + repo
}

// byDigest reports whether tail names content by digest (a blob, a
// manifest by digest): its bytes are checked, so it may come from
// another host.
func byDigest(tail string) bool {
	kind, ref, _ := strings.Cut(tail, "/")
	if kind != "blobs" && kind != "manifests" {
		return false
	}
	_, err := digest.Parse(ref)
	return err == nil
}

// forwardQuery is what of a client's query an upstream gets: the
// pagination of tag lists and the referrers filter. ?ns= is consumed by
// this hop (it chose the upstream) and never passed on.
func forwardQuery(q url.Values) url.Values {
	out := url.Values{}
	for _, k := range []string{"n", "last", "artifactType"} {
		if v := q.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

// getManifest reads a manifest by tag or digest: one by digest from the
// cache when it holds it; what is fetched is kept there by its digest (a
// tag's too, so the untailored view of a tag read before works offline).
func (u *upstreamBackend) getManifest(ctx context.Context, repo, ref string) (*manifest, error) {
	d, byDigest := digest.Parse(ref)
	if byDigest == nil && u.cache != nil {
		if m := u.cache.manifest(ctx, d); m != nil {
			return m, nil
		}
	}
	m, err := u.fetchManifest(ctx, repo, ref)
	if err == nil && u.cache != nil {
		if err := u.cache.putManifest(context.WithoutCancel(ctx), m); err != nil {
			u.log.Warn("manifest not cached", "upstream", u.up.Name, "digest", m.digest.String(), "err", err)
		}
	}
	return m, err
}

// fetchManifest GETs a manifest from the upstream, bounded and checked.
func (u *upstreamBackend) fetchManifest(ctx context.Context, repo, ref string) (*manifest, error) {
	resp, err := u.do(ctx, http.MethodGet, repo, "manifests/"+ref, nil, allManifestTypes)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > maxManifestSize {
		return nil, manifestTooBig(resp.ContentLength)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestSize+1))
	if err != nil {
		return nil, u.unreachable(err)
	}
	if len(body) > maxManifestSize {
		return nil, manifestTooBig(int64(len(body)))
	}
	m, err := newManifest(body, resp.Header.Get("Content-Type"), ref, u.up.Name)
	if err != nil {
		u.m.upstreamErrors.WithLabelValues(u.up.Name, "manifest").Inc()
		u.log.Warn("upstream manifest refused", "upstream", u.up.Name, "repo", repo, "ref", ref, "err", err)
	}
	return m, err
}

// newManifest checks that body is a manifest (a JSON object, not an HTML
// page a proxy or login portal sent), checks it against ref when that is
// a digest, and finds its media type.
func newManifest(body []byte, contentType, ref, from string) (*manifest, error) {
	ct, _, _ := mime.ParseMediaType(contentType)
	var probe map[string]json.RawMessage
	if strings.HasPrefix(ct, "text/") || json.Unmarshal(body, &probe) != nil {
		return nil, newError(http.StatusBadGateway, codeManifestInvalid, "upstream "+from+" answered something that is not a manifest", nil)
	}
	m := &manifest{body: body, mediaType: mediaTypeOf(body, contentType), digest: digest.FromBytes(body)}
	if want, err := digest.Parse(ref); err == nil {
		if got := want.Algorithm().FromBytes(body); got != want {
			return nil, newError(http.StatusBadGateway, codeDigestInvalid, "manifest from "+from+" does not match its digest",
				fmt.Sprintf("got %s, want %s", got, want))
		}
		m.digest = want
	}
	return m, nil
}

func manifestTooBig(n int64) *regError {
	return newError(http.StatusBadGateway, codeSizeInvalid, "manifest too large",
		fmt.Sprintf("%d bytes, the limit is %d", n, maxManifestSize))
}

// forward answers a blob, a manifest by digest or a tag list of repo.
// Blobs stream digest-checked; a manifest is read whole (bounded) and
// checked before a byte goes out.
func (u *upstreamBackend) forward(w http.ResponseWriter, r *http.Request, repo, tail string) {
	kind, ref, _ := strings.Cut(tail, "/")
	if kind == "manifests" {
		m, err := u.getManifest(r.Context(), repo, ref)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeManifest(w, r, m)
		return
	}
	var want digest.Digest
	if kind == "blobs" {
		d, err := digest.Parse(ref)
		if err != nil {
			newError(http.StatusBadRequest, codeDigestInvalid, "bad digest", nil).Write(w, r)
			return
		}
		want = d
	}
	resp, err := u.do(r.Context(), r.Method, repo, tail, forwardQuery(r.URL.Query()), r.Header.Values("Accept"))
	if err != nil {
		asRegError(err).Write(w, r)
		return
	}
	defer resp.Body.Close()
	copyHeaders(w.Header(), resp.Header, "Content-Type", "Content-Length", "Docker-Content-Digest", "Etag", "Last-Modified", "Cache-Control")
	if l := resp.Header.Get("Link"); l != "" && strings.HasPrefix(l, "</v2/") {
		w.Header().Set("Link", l) // pagination within this registry only
	}
	var body io.Reader = resp.Body
	if want != "" {
		w.Header().Set("Docker-Content-Digest", want.String())
		w.Header().Set("Etag", `"`+want.String()+`"`)
		if body, err = newVerifyingReader(resp.Body, want, resp.ContentLength); err != nil {
			newError(http.StatusBadRequest, codeDigestInvalid, "bad digest", nil).Write(w, r)
			return
		}
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method == http.MethodHead {
		return
	}
	n, err := copyStream(w, body)
	u.m.bytes.WithLabelValues(u.up.Name).Add(float64(n))
	if err != nil {
		if errors.Is(err, errDigestMismatch) || errors.Is(err, io.ErrUnexpectedEOF) {
			u.m.upstreamErrors.WithLabelValues(u.up.Name, "digest").Inc()
		}
		u.log.Warn("stream cut off", "upstream", u.up.Name, "repo", repo, "object", tail, "bytes", n, "err", err)
		panic(http.ErrAbortHandler)
	}
}

func copyHeaders(dst, src http.Header, keys ...string) {
	for _, k := range keys {
		if v := src.Get(k); v != "" {
			dst.Set(k, v)
		}
	}
}

// mediaTypeOf is the manifest's media type, by the client's rule
// (remote.MediaTypeOf).
func mediaTypeOf(body []byte, contentType string) string {
	return string(remote.MediaTypeOf(body, contentType))
}
