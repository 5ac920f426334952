package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/singleflight"
)

// Upstream is a registry tailor serves content from: its name (the
// containerd ?ns= value and path prefix that select it, docker.io) and
// base URL (https://registry-1.docker.io).
type Upstream struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// ParseUpstream reads NAME=URL.
func ParseUpstream(s string) (Upstream, error) {
	n, u, ok := strings.Cut(s, "=")
	if !ok || n == "" || u == "" {
		return Upstream{}, fmt.Errorf("upstream %q: want NAME=URL (docker.io=https://registry-1.docker.io)", s)
	}
	return Upstream{Name: n, URL: u}, nil
}

// upstreamBackend is a backend on an upstream registry.
type upstreamBackend struct {
	up       Upstream
	base     *url.URL
	reg      name.Registry // the host requests go to
	authReg  name.Registry // the registry credentials are looked up for
	keychain authn.Keychain
	inner    http.RoundTripper
	pingTO   time.Duration
	m        *metrics
	log      *slog.Logger

	mu         sync.Mutex
	transports map[string]http.RoundTripper
	group      singleflight.Group
}

var _ backend = (*upstreamBackend)(nil)

const maxTransports = 4096

func newRemote(up Upstream, o *options, m *metrics) (*upstreamBackend, error) {
	u, err := url.Parse(up.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("upstream %s: URL %q: want http(s)://host[:port]", up.Name, up.URL)
	}
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
	return &upstreamBackend{
		up: up, base: u, reg: reg, authReg: authReg, keychain: o.keychain,
		inner: o.transport, pingTO: o.upstreamTimeout, m: m, log: o.logger,
		transports: map[string]http.RoundTripper{},
	}, nil
}

func (u *upstreamBackend) name() string   { return u.up.Name }
func (u *upstreamBackend) writable() bool { return false }

// transport returns the authenticating transport for repo (pull scope),
// created once per repository: the anonymous bearer token flow, or the
// docker config's credentials for the upstream.
func (u *upstreamBackend) transport(ctx context.Context, repo string) (http.RoundTripper, error) {
	u.mu.Lock()
	t, ok := u.transports[repo]
	u.mu.Unlock()
	if ok {
		return t, nil
	}
	v, err, _ := u.group.Do(repo, func() (any, error) {
		auth, err := u.keychain.Resolve(u.authReg)
		if err != nil {
			auth = authn.Anonymous
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), u.pingTO)
		defer cancel()
		scope := u.reg.Repo(repo).Scope(transport.PullScope)
		t, err := transport.NewWithContext(ctx, u.reg, auth, u.inner, []string{scope})
		if err != nil {
			return nil, err
		}
		u.mu.Lock()
		if len(u.transports) >= maxTransports {
			clear(u.transports)
		}
		u.transports[repo] = t
		u.mu.Unlock()
		return t, nil
	})
	if err != nil {
		return nil, u.unreachable(err)
	}
	return v.(http.RoundTripper), nil
}

// do sends method to /v2/<repo>/<tail> with the repository's transport.
func (u *upstreamBackend) do(ctx context.Context, method, repo, tail, rawQuery string, accept []string) (*http.Response, error) {
	t, err := u.transport(ctx, repo)
	if err != nil {
		return nil, err
	}
	target := *u.base
	target.Path = strings.TrimSuffix(u.base.Path, "/") + "/v2/" + repo + "/" + tail
	target.RawQuery = rawQuery
	req, err := http.NewRequestWithContext(ctx, method, target.String(), nil)
	if err != nil {
		return nil, err
	}
	for _, a := range accept {
		req.Header.Add("Accept", a)
	}
	resp, err := (&http.Client{Transport: t}).Do(req)
	if err != nil {
		return nil, u.unreachable(err)
	}
	if resp.StatusCode >= 300 {
		defer resp.Body.Close()
		return nil, u.statusError(resp, tail)
	}
	return resp, nil
}

func (u *upstreamBackend) getManifest(ctx context.Context, repo, ref string) (*manifest, error) {
	resp, err := u.do(ctx, http.MethodGet, repo, "manifests/"+ref, "", allManifestTypes)
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
	return newManifest(body, resp.Header.Get("Content-Type"), ref, u.up.Name)
}

// newManifest checks body against ref when it is a digest and finds its
// media type.
func newManifest(body []byte, contentType, ref, from string) (*manifest, error) {
	m := &manifest{body: body, mediaType: mediaTypeOf(body, contentType), digest: digest.FromBytes(body)}
	if want, err := digest.Parse(ref); err == nil {
		if err := want.Validate(); err != nil {
			return nil, newError(http.StatusBadRequest, codeDigestInvalid, "bad digest", ref)
		}
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

func (u *upstreamBackend) forward(w http.ResponseWriter, r *http.Request, repo, tail string) {
	var want digest.Digest
	kind, ref, _ := strings.Cut(tail, "/")
	if kind == "blobs" || kind == "manifests" {
		d, err := digest.Parse(ref)
		if err != nil {
			newError(http.StatusBadRequest, codeDigestInvalid, "bad digest", ref).write(w, r)
			return
		}
		want = d
	}
	accept := r.Header.Values("Accept")
	if kind == "manifests" {
		accept = allManifestTypes
	}
	resp, err := u.do(r.Context(), r.Method, repo, tail, r.URL.RawQuery, accept)
	if err != nil {
		asRegError(err).write(w, r)
		return
	}
	defer resp.Body.Close()
	if kind == "manifests" && resp.ContentLength > maxManifestSize {
		manifestTooBig(resp.ContentLength).write(w, r)
		return
	}
	copyHeaders(w.Header(), resp.Header, "Content-Type", "Content-Length", "Docker-Content-Digest", "Link", "Etag", "Last-Modified", "Cache-Control")
	var body io.Reader = resp.Body
	if want != "" {
		w.Header().Set("Docker-Content-Digest", want.String())
		w.Header().Set("Etag", `"`+want.String()+`"`)
		if body, err = newVerifyingReader(resp.Body, want, resp.ContentLength); err != nil {
			newError(http.StatusBadRequest, codeDigestInvalid, "bad digest", ref).write(w, r)
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

// unreachable turns a transport error into a registry error.
func (u *upstreamBackend) unreachable(err error) error {
	var re *regError
	if errors.As(err, &re) {
		return re
	}
	var te *transport.Error
	if errors.As(err, &te) {
		u.m.upstreamErrors.WithLabelValues(u.up.Name, strconv.Itoa(te.StatusCode)).Inc()
		return u.mapStatus(te.StatusCode, "", te.Error())
	}
	var ne net.Error
	status, kind := http.StatusBadGateway, "network"
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		status, kind = http.StatusGatewayTimeout, "timeout"
	}
	u.m.upstreamErrors.WithLabelValues(u.up.Name, kind).Inc()
	return newError(status, codeUnavailable, "upstream "+u.up.Name+" unreachable", redactURL(err.Error()))
}

// statusError reads (a little of) an upstream error answer.
func (u *upstreamBackend) statusError(resp *http.Response, tail string) error {
	u.m.upstreamErrors.WithLabelValues(u.up.Name, strconv.Itoa(resp.StatusCode)).Inc()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return u.mapStatus(resp.StatusCode, tail, strings.TrimSpace(string(body)))
}

func (u *upstreamBackend) mapStatus(status int, tail, detail string) error {
	code := codeUnknown
	switch {
	case status == http.StatusNotFound:
		code = codeNameUnknown
		if strings.HasPrefix(tail, "manifests/") {
			code = codeManifestUnknown
		} else if strings.HasPrefix(tail, "blobs/") {
			code = codeBlobUnknown
		}
		return newError(http.StatusNotFound, code, "not found upstream ("+u.up.Name+")", detail)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return newError(http.StatusForbidden, codeDenied, "upstream "+u.up.Name+" refused access (credentials, or no such repository)", detail)
	case status == http.StatusTooManyRequests:
		return newError(http.StatusTooManyRequests, "TOOMANYREQUESTS", "upstream "+u.up.Name+" rate limit", detail)
	case status >= 500:
		return newError(http.StatusBadGateway, codeUnavailable, fmt.Sprintf("upstream %s answered %d", u.up.Name, status), detail)
	}
	return newError(http.StatusBadGateway, code, fmt.Sprintf("upstream %s answered %d", u.up.Name, status), detail)
}

// redactURL drops query strings (tokens, signed URLs) from an error text.
func redactURL(s string) string { return queryRE.ReplaceAllString(s, "$1?REDACTED") }

var queryRE = regexp.MustCompile(`(https?://[^\s?"']+)\?[^\s"']*`)

// mediaTypeOf is the manifest's media type: its mediaType field, else the
// Content-Type the backend sent.
func mediaTypeOf(body []byte, contentType string) string {
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	if err := jsonUnmarshal(body, &probe); err == nil && probe.MediaType != "" {
		return probe.MediaType
	}
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		return mt
	}
	return contentType
}

func asRegError(err error) *regError {
	var re *regError
	if errors.As(err, &re) {
		return re
	}
	return newError(http.StatusInternalServerError, codeUnknown, "internal error", err.Error())
}
