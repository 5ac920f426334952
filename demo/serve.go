package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/serve"
)

// startServe runs tailor serve in this process, as `tailor serve
// --listen 127.0.0.1:0 --storage DIR --profile host` would: the embedded
// registry, loopback only (so pushes need no login), clients that name no
// profile tailored for p. stop shuts it down and waits for it.
//
// In process rather than the tailor binary in a subprocess: the demo is a
// library call (its tests run it, where there is no tailor binary to
// start), the server is the same serve.Server the command runs, and the
// only child processes left are the ones whose CPU time is measured.
func startServe(ctx context.Context, storage string, p *profile.Profile, log *slog.Logger) (addr string, stop func() error, err error) {
	s, err := serve.New(serve.WithStorage(storage), serve.WithProfile(p), serve.WithLogger(quiet(log)))
	if err != nil {
		return "", nil, fmt.Errorf("starting tailor serve: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("starting tailor serve: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ln) }()
	return ln.Addr().String(), func() error {
		cancel()
		return <-done
	}, nil
}

// quiet keeps the server's errors, and its warnings only when l logs at
// debug level (tailor -v): the server warns of every manifest by tag it
// lacks, which a first push asks for, and the demo's output is its own.
func quiet(l *slog.Logger) *slog.Logger {
	if l.Enabled(context.Background(), slog.LevelDebug) {
		return l
	}
	return slog.New(minLevel{l.Handler(), slog.LevelError})
}

// minLevel is h without the records below level.
type minLevel struct {
	slog.Handler
	level slog.Level
}

var _ slog.Handler = minLevel{}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.level && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(a), m.level}
}
func (m minLevel) WithGroup(g string) slog.Handler { return minLevel{m.Handler.WithGroup(g), m.level} }

// pick is one entry of the index as some client was given it.
type pick struct {
	// Profile is who asked: a spec, or how the client asked.
	Profile string
	// Target is the entry's CPU target, "generic" for none.
	Target string
	Digest v1.Hash
}

// stockPick is what a client that knows nothing of tailor gets for ref:
// the manifest by tag with no profile (serve answers for its own
// --profile), then the one entry of this host's os/arch, as docker and
// containerd choose by platform. It returns the tailored index too, to
// pull the image from.
func stockPick(ctx context.Context, c *remote.Client, ref, platform string) (*remote.Manifest, pick, error) {
	m, err := c.Get(ctx, ref)
	if err != nil {
		return nil, pick{}, fmt.Errorf("pulling %s as a stock client: %w", ref, err)
	}
	pk, err := tailoredEntry(m, platform)
	return m, pk, err
}

// tailoredEntry reads a tailored index (serve's answer to a manifest by
// tag): exactly one entry of platform's os/arch, annotated with the
// target chosen and the digest it was chosen from, which must be its own.
func tailoredEntry(m *remote.Manifest, platform string) (pick, error) {
	if !m.IsIndex() {
		return pick{}, fmt.Errorf("tailor serve answered %s with a %s, want the tailored index", m.Source, m.MediaType)
	}
	idx, err := m.IndexManifest()
	if err != nil {
		return pick{}, fmt.Errorf("reading the tailored index of %s: %w", m.Source, err)
	}
	// A stock client that names no variant takes the entry of plain
	// os/arch; the chosen entry may come again with its level's variant,
	// and lower level entries after it, for clients that ask for a variant.
	key := platformKey(platform)
	var found []v1.Descriptor
	for _, d := range idx.Manifests {
		if match.PlatformKey(d.Platform) == key && d.Platform.Variant == "" {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		return pick{}, fmt.Errorf("tailor serve's answer for %s has %d entries for %s, want 1 (not tailored?)", m.Source, len(found), key)
	}
	d := found[0]
	target := d.Annotations[serve.AnnotationSelectedTarget]
	if target == "" || d.Annotations[serve.AnnotationSelectedFrom] != d.Digest.String() {
		return pick{}, fmt.Errorf("tailor serve's answer for %s: entry %s lacks the selection annotations (%s=%q, %s=%q)", m.Source, d.Digest,
			serve.AnnotationSelectedTarget, target, serve.AnnotationSelectedFrom, d.Annotations[serve.AnnotationSelectedFrom])
	}
	return pick{Target: target, Digest: d.Digest}, nil
}

// platformKey is the os/arch of an os/arch[/variant] string.
func platformKey(platform string) string {
	p, err := v1.ParsePlatform(platform)
	if err != nil {
		return platform
	}
	return match.PlatformKey(p)
}

// otherHosts are machines of the host's family, for the line that shows
// serve tailoring one tag for each: an old or unknown CPU, and current
// ones of several vendors, those the catalog knows.
func otherHosts(arch, host string) []string {
	names := []string{"x86_64", "broadwell", "zen2", "zen4", "sapphirerapids"}
	if arch == "arm64" {
		names = []string{"aarch64", "cortex_a72", "neoverse_n1", "neoverse_v2"}
	}
	return slices.DeleteFunc(names, func(n string) bool {
		_, err := catalog.Lookup(n)
		return err != nil || n == host
	})
}

// othersPick asks serve for ref once per named host, each naming its
// profile in the Tailor-Profile header, as a client configured with a
// profile (a node of a fleet, `docker login -u cpu=zen4`) would.
func othersPick(ctx context.Context, ref, platform string, hosts []string, opts ...remote.Option) ([]pick, error) {
	var out []pick
	for _, h := range hosts {
		spec := "cpu=" + h
		c, err := remote.New(append(slices.Clone(opts), remote.WithServerProfile(spec))...)
		if err != nil {
			return nil, err
		}
		m, err := c.Get(ctx, ref)
		if errors.Is(err, remote.ErrNotFound) {
			out = append(out, pick{Profile: spec, Target: "none fits"})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("asking tailor serve for %s as %s: %w", ref, spec, err)
		}
		pk, err := tailoredEntry(m, platform)
		if err != nil {
			return nil, err
		}
		pk.Profile = spec
		out = append(out, pk)
	}
	return out, nil
}
