package remote

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
)

// Client reads manifests and images from registries. It is safe for
// concurrent use; authentication is negotiated once per repository and
// reused by later calls.
type Client struct {
	o      *options
	puller *ggcr.Puller
	tls    sync.Map // loopback hosts that speak TLS (tailorTransport.plainPing)
}

// New returns a Client configured by opts (see the With functions for the
// defaults).
func New(opts ...Option) (*Client, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	c := &Client{o: o}
	c.puller, err = ggcr.NewPuller(c.baseOptions()...)
	if err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	return c, nil
}

// baseOptions are the ggcr options every request uses.
func (c *Client) baseOptions() []ggcr.Option {
	return []ggcr.Option{
		ggcr.WithAuthFromKeychain(c.o.keychain),
		ggcr.WithTransport(&tailorTransport{inner: &logTransport{inner: c.o.transport, log: c.o.log, timeout: c.o.timeout, slow: c.o.slow}, profile: c.o.profile, tls: &c.tls}),
		ggcr.WithRetryBackoff(c.o.backoff),
		ggcr.WithUserAgent(c.o.userAgent),
		ggcr.WithJobs(c.o.jobs),
	}
}

// Options returns the ggcr options of c for a call bound to ctx: its
// credentials, transport, retries and user agent, reusing c's negotiated
// authentication. For callers that use ggcr's remote package directly.
func (c *Client) Options(ctx context.Context) []ggcr.Option {
	return append(c.baseOptions(), ggcr.WithContext(ctx), ggcr.Reuse(c.puller))
}

// ParseReference parses s as an image reference (a tag, latest by
// default, or a digest), honouring the insecure registries of c.
func (c *Client) ParseReference(s string) (name.Reference, error) {
	ref, err := name.ParseReference(s, c.nameOptions(s)...)
	if err != nil {
		return nil, fmt.Errorf("%w: parse reference %q: %w", ErrBadReference, s, err)
	}
	return ref, nil
}

// nameOptions marks the registry of s insecure when c was told so.
func (c *Client) nameOptions(s string) []name.Option {
	host, _, found := strings.Cut(s, "/")
	if found && c.o.insecure[host] {
		return []name.Option{name.Insecure}
	}
	return nil
}

// Timeout is the bound of each call of c (WithTimeout; 0: none). Callers
// that read lazily, after a call returns (Image's layers), bound their own
// context by it.
func (c *Client) Timeout() time.Duration { return c.o.timeout }

// withTimeout bounds one call by c's timeout.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.o.timeout > 0 {
		return context.WithTimeout(ctx, c.o.timeout)
	}
	return context.WithCancel(ctx)
}

// Get fetches the manifest of ref (a tag or a digest) with one GET, and
// returns it raw with its media type and digest. ref may also name a
// manifest of an OCI layout on disk (oci:DIR[:TAG], oci:DIR@sha256:HEX; see
// ParseLayoutRef). An index, an image manifest (OCI or Docker schema 2) are
// accepted; anything else, or bytes that are not JSON, is an ErrBadManifest.
func (c *Client) Get(ctx context.Context, ref string) (*Manifest, error) {
	if IsLayout(ref) {
		l, err := ParseLayoutRef(ref)
		if err != nil {
			return nil, err
		}
		return getLayout(l)
	}
	r, err := c.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	return c.GetReference(ctx, r)
}

// GetReference is Get for a parsed registry reference.
func (c *Client) GetReference(ctx context.Context, ref name.Reference) (*Manifest, error) {
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	d, err := ggcr.Get(ref, c.Options(ctx)...)
	if err != nil {
		return nil, classify(ref.String(), err)
	}
	return newManifestFrom(&registryOrigin{c: c, ref: ref}, d.Manifest, d.MediaType, d.Digest)
}

// Index fetches ref and returns its entries; ref must be an index.
func (c *Client) Index(ctx context.Context, ref string) ([]v1.Descriptor, error) {
	m, err := c.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	im, err := m.IndexManifest()
	if err != nil {
		return nil, err
	}
	return im.Manifests, nil
}

// Config fetches the config of the image manifest m (one blob GET): its
// platform and settings.
func (c *Client) Config(ctx context.Context, m *Manifest) (*v1.ConfigFile, error) {
	mf, err := m.ImageManifest()
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	rc, err := m.from.blob(ctx, mf.Config.Digest)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	cf, err := v1.ParseConfigFile(rc)
	if err != nil {
		return nil, fmt.Errorf("%w: config of %s: %w", ErrBadManifest, m.Source, err)
	}
	return cf, nil
}

// Image returns the image with manifest digest dgst from where m came from
// (m's repository, or m's OCI layout). Its layers are read lazily, bound
// to ctx (no per-call timeout: a pull takes as long as it takes; bound ctx
// instead).
func (c *Client) Image(ctx context.Context, m *Manifest, dgst v1.Hash) (v1.Image, error) {
	return m.from.image(ctx, dgst)
}

// registryOrigin reads images and blobs of one registry repository.
type registryOrigin struct {
	c   *Client
	ref name.Reference
}

var _ origin = (*registryOrigin)(nil)

func (o *registryOrigin) name() string { return o.ref.String() }

func (o *registryOrigin) image(ctx context.Context, h v1.Hash) (v1.Image, error) {
	r := o.ref.Context().Digest(h.String())
	img, err := ggcr.Image(r, o.c.Options(ctx)...)
	if err != nil {
		return nil, classify(r.String(), err)
	}
	return img, nil
}

func (o *registryOrigin) blob(ctx context.Context, h v1.Hash) (io.ReadCloser, error) {
	r := o.ref.Context().Digest(h.String())
	l, err := ggcr.Layer(r, o.c.Options(ctx)...)
	if err != nil {
		return nil, classify(r.String(), err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, classify(r.String(), err)
	}
	return rc, nil
}
