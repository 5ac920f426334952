package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/build"
	"github.com/tailor-dev/tailor/detect"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/resolve"
)

// Options are the demo's settings; the zero value is replaced by Defaults.
type Options struct {
	// Runs is how many times each binary runs (alternating); the median counts.
	Runs int
	// Size and Steps are the example's arguments (particles, steps).
	Size, Steps int
	// Jobs is the build parallelism.
	Jobs int
	// Keep leaves the temporary directory in place.
	Keep bool
	// Profile overrides the host profile (tests); nil detects the host.
	// The binaries still run here, so it must name a CPU this host can run
	// code for.
	Profile *profile.Profile
	// Logger receives the server's, the build's and the client's logs
	// (default: discard).
	Logger *slog.Logger
}

// Defaults: 5 runs each of 4096 particles for 8 steps, every CPU building.
func Defaults() Options {
	return Options{Runs: 5, Size: 4096, Steps: 8, Jobs: runtime.NumCPU()}
}

// Report is what the demo did and measured.
type Report struct {
	// Server is the address tailor serve listened on.
	Server string
	// Index is REPO@sha256: of the pushed index.
	Index string
	// Built are the entries, in index order; Named the named
	// microarchitectures among them; Skipped the targets the local
	// compiler cannot build, with why.
	Built, Named, Skipped []string
	// Host is the host's target.
	Host string
	// Resolved is the entry tailor's client chose (the whole index,
	// matched here); Stock the one serve's tailored view gave a client
	// that names no profile. They must be the same.
	Resolved, Stock pick
	// Others are serve's answers for other hosts (Tailor-Profile header).
	Others []pick
	// Generic, Level and Tailored are the runs of the generic entry, of
	// the best level entry (nil when the tailored entry is a level) and of
	// the tailored entry.
	Generic, Level, Tailored *Timing
	// Speedup is the generic build's median CPU time over the tailored
	// one's; WallSpeedup the same of wall times.
	Speedup, WallSpeedup float64
}

// Run does the whole loop, printing each step to w.
func Run(ctx context.Context, w io.Writer, o Options) (*Report, error) {
	o = withDefaults(o)
	dir, err := os.MkdirTemp("", "tailor-demo-")
	if err != nil {
		return nil, err
	}
	if o.Keep {
		fmt.Fprintf(w, "work dir   %s (kept)\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	p := o.Profile
	if p == nil {
		if p, err = detect.Host(ctx); err != nil {
			return nil, fmt.Errorf("detecting this host: %w", err)
		}
	}
	addr, stop, err := startServe(ctx, filepath.Join(dir, "serve"), p, o.Logger)
	if err != nil {
		return nil, err
	}
	rep, err := loop(ctx, w, dir, addr, p, o)
	if serr := stop(); err == nil && serr != nil {
		err = fmt.Errorf("stopping tailor serve: %w", serr)
	}
	return rep, err
}

func withDefaults(o Options) Options {
	d := Defaults()
	if o.Runs < 1 {
		o.Runs = d.Runs
	}
	if o.Size < 2 {
		o.Size = d.Size
	}
	if o.Steps < 1 {
		o.Steps = d.Steps
	}
	if o.Jobs < 1 {
		o.Jobs = d.Jobs
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// loop is the demo with tailor serve listening on addr.
func loop(ctx context.Context, w io.Writer, dir, addr string, p *profile.Profile, o Options) (*Report, error) {
	rep := &Report{Server: addr, Host: p.CPU.Microarchitecture}
	fmt.Fprintf(w, "serve      %s: tailor serve in this process, embedded registry, --profile host (%s)\n", addr, p.CPU.Microarchitecture)
	client, err := remote.New(remote.WithLogger(o.Logger))
	if err != nil {
		return nil, err
	}
	ref := addr + "/forces:demo"
	entries, err := buildAndPush(ctx, w, dir, ref, p, client, o, rep)
	if err != nil {
		return nil, err
	}
	bins, err := tailoring(ctx, w, dir, ref, p, client, entries, o, rep)
	if err != nil {
		return nil, err
	}
	return rep, compare(ctx, w, bins, o, rep)
}

// buildAndPush builds the example for this machine's levels and named
// targets and pushes images and index to ref. It returns the entry name
// (the target) of each image digest.
func buildAndPush(ctx context.Context, w io.Writer, dir, ref string, p *profile.Profile, c *remote.Client, o Options, rep *Report) (map[v1.Hash]string, error) {
	src, err := writeSource(dir)
	if err != nil {
		return nil, err
	}
	host, err := p.Target()
	if err != nil {
		return nil, err
	}
	opts := []build.Option{build.WithParallelism(o.Jobs), build.WithLogDir(filepath.Join(dir, "logs")),
		build.WithClient(c), build.WithLogger(o.Logger)}
	ts, err := planTargets(ctx, src, host, opts)
	if err != nil {
		return nil, err
	}
	named := "none: this host's CPU is only known by its level"
	if len(ts.named) > 0 {
		named = strings.Join(ts.named, " ") + " (this host's lineage, one per level)"
	}
	fmt.Fprintf(w, "targets    levels %s; named %s\n", strings.Join(ts.levels, " "), named)
	for _, s := range ts.plan.Skipped {
		rep.Skipped = append(rep.Skipped, s.Value+": "+s.Reason)
		fmt.Fprintf(w, "skipped    %s: %s\n", s.Value, s.Reason)
	}
	start := time.Now()
	res, err := ts.plan.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("building the example: %w", err)
	}
	defer res.Close()
	entries := map[v1.Hash]string{}
	cc := "no compiler"
	for _, b := range res.Images {
		d, err := b.Image.Digest()
		if err != nil {
			return nil, err
		}
		entries[d] = b.Entry.Name
		rep.Built = append(rep.Built, b.Entry.Name)
		if b.Compiler != nil {
			cc = b.Compiler.Kind + " " + b.Compiler.Version
		}
	}
	for _, n := range ts.named {
		if _, ok := entryDigest(entries, n); ok {
			rep.Named = append(rep.Named, n)
		}
	}
	fmt.Fprintf(w, "built      %d entries with %s in %.1fs\n", len(res.Images), cc, time.Since(start).Seconds())
	if rep.Index, err = res.Publish(ctx, ref); err != nil {
		return nil, fmt.Errorf("pushing to tailor serve: %w", err)
	}
	_, dgst, _ := strings.Cut(rep.Index, "@")
	fmt.Fprintf(w, "pushed     %s = %s (%d entries, generic first)\n", ref, dgst[:min(len(dgst), 19)], len(res.Images))
	return entries, nil
}

func entryDigest(entries map[v1.Hash]string, name string) (v1.Hash, bool) {
	for d, n := range entries {
		if n == name {
			return d, true
		}
	}
	return v1.Hash{}, false
}

// tailoring resolves ref for this host with tailor's client, pulls it as
// a stock client does through serve, checks both name the same entry,
// shows serve's answers for other hosts, and pulls the binaries to run.
func tailoring(ctx context.Context, w io.Writer, dir, ref string, p *profile.Profile, client *remote.Client,
	entries map[v1.Hash]string, o Options, rep *Report) ([]*Timing, error) {
	fmt.Fprintf(w, "host       %s (%s)\n", p.CPU.Microarchitecture, p.Platform)
	res, err := resolve.Resolve(ctx, client, ref, p)
	if err != nil {
		return nil, fmt.Errorf("resolving %s for this host: %w", ref, err)
	}
	rep.Resolved = pick{Profile: "host", Target: targetOf(res.Chosen), Digest: res.Digest}
	fmt.Fprintf(w, "tailor     tailor resolve (whole index, matched here): entry %d of %d, %s -> %s\n",
		res.Chosen.Index, len(res.Candidates), rep.Resolved.Target, short(res.Digest))
	stock, err := remote.New(remote.WithServerProfile(""), remote.WithLogger(o.Logger))
	if err != nil {
		return nil, err
	}
	tailored, sp, err := stockPick(ctx, stock, ref, p.Platform)
	if err != nil {
		return nil, err
	}
	sp.Profile = "serve's --profile host"
	rep.Stock = sp
	fmt.Fprintf(w, "stock      stock pull via serve (no profile; the tailored view's %s entry): %s -> %s\n",
		platformKey(p.Platform), sp.Target, short(sp.Digest))
	if sp.Digest != res.Digest {
		return nil, fmt.Errorf("tailor's client chose %s (%s) but tailor serve gave a stock client %s (%s) for the same host",
			res.Digest, rep.Resolved.Target, sp.Digest, sp.Target)
	}
	fmt.Fprintf(w, "agree      both name %s, %s\n", sp.Target, short(sp.Digest))
	if rep.Others, err = othersPick(ctx, ref, p.Platform, otherHosts(runtime.GOARCH, p.CPU.Microarchitecture), remote.WithLogger(o.Logger)); err != nil {
		return nil, err
	}
	if len(rep.Others) > 0 {
		var parts []string
		for _, pk := range rep.Others {
			parts = append(parts, strings.TrimPrefix(pk.Profile, "cpu=")+" -> "+pk.Target)
		}
		fmt.Fprintf(w, "others     via serve (Tailor-Profile): %s\n", strings.Join(parts, ", "))
	}
	return pullAll(ctx, w, dir, client, tailored, res, entries)
}

// pullAll pulls the generic entry and the best level entry with tailor's
// client, and the tailored entry from the stock client's view.
func pullAll(ctx context.Context, w io.Writer, dir string, client *remote.Client, tailored *remote.Manifest,
	res *resolve.Result, entries map[v1.Hash]string) ([]*Timing, error) {
	idx, err := client.Get(ctx, res.Repository+"@"+res.Index.String())
	if err != nil {
		return nil, err
	}
	var ts []*Timing
	add := func(label string, m *remote.Manifest, d v1.Hash) error {
		bin, err := pullBinary(ctx, client, m, d, filepath.Join(dir, label))
		if err != nil {
			return fmt.Errorf("pulling the %s entry %s: %w", label, d, err)
		}
		ts = append(ts, &Timing{Label: label, Target: entries[d], bin: bin})
		return nil
	}
	if err := add("generic", idx, res.Candidates[genericCandidate(res)].Descriptor.Digest); err != nil {
		return nil, err
	}
	if lv, ok := bestLevel(res); ok {
		if err := add("level", idx, lv.Descriptor.Digest); err != nil {
			return nil, err
		}
	}
	if err := add("tailored", tailored, res.Digest); err != nil {
		return nil, err
	}
	var parts []string
	for _, t := range ts {
		parts = append(parts, t.Label+" "+t.Target)
	}
	fmt.Fprintf(w, "pulled     %s\n", strings.Join(parts, ", "))
	return ts, nil
}

// genericCandidate is the position among res.Candidates of the index's
// first entry, the generic one.
func genericCandidate(res *resolve.Result) int {
	for i, c := range res.Candidates {
		if c.Index == 0 {
			return i
		}
	}
	return 0
}

// bestLevel is the best fitting level-only entry, when the chosen one is
// a named target: what the named build adds over the level shows beside it.
func bestLevel(res *resolve.Result) (match.Candidate, bool) {
	if res.Chosen.Reqs.IsLevelOnly() || res.Chosen.Reqs.IsGeneric() {
		return match.Candidate{}, false
	}
	for _, c := range res.Candidates { // best first
		if c.Fits && c.Reqs.IsLevelOnly() && !c.Reqs.IsGeneric() {
			return c, true
		}
	}
	return match.Candidate{}, false
}

func targetOf(c match.Candidate) string {
	if c.Reqs.Target == "" || c.Reqs.IsGeneric() {
		return "generic"
	}
	return c.Reqs.Target
}

func short(h v1.Hash) string { return h.String()[:19] }
