package demo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/build"
	"github.com/tailor-dev/tailor/detect"
	"github.com/tailor-dev/tailor/examples/forces"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/registry"
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
	Profile *profile.Profile
	Logger  *slog.Logger
}

// Defaults: 5 runs each of 4096 particles for 8 steps, every CPU building.
func Defaults() Options {
	return Options{Runs: 5, Size: 4096, Steps: 8, Jobs: runtime.NumCPU()}
}

// Report is what the demo measured.
type Report struct {
	Index    string // REPO@sha256: of the pushed index
	Built    []string
	Host     string // the host's target
	Chosen   string // the chosen entry's requirements
	Generic  Timing
	Tailored Timing
	// Speedup is the generic median time over the tailored one.
	Speedup float64
}

// Run does the whole loop, printing each step to w.
func Run(ctx context.Context, w io.Writer, o Options) (*Report, error) {
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
	dir, err := os.MkdirTemp("", "tailor-demo-")
	if err != nil {
		return nil, err
	}
	if o.Keep {
		fmt.Fprintf(w, "work dir   %s (kept)\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	host, stop, err := startRegistry(ctx, filepath.Join(dir, "registry"))
	if err != nil {
		return nil, fmt.Errorf("starting the embedded registry: %w", err)
	}
	defer stop()
	fmt.Fprintf(w, "registry   %s (tailor's embedded registry, storage in %s)\n", host, dir)

	rep := &Report{}
	ref := host + "/forces:demo"
	if err := buildAndPush(ctx, w, dir, ref, o, rep); err != nil {
		return nil, err
	}
	if err := resolveAndRun(ctx, w, dir, host, ref, o, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// buildAndPush writes the example into dir/src, builds it for every level
// the local compiler knows and pushes images and index to ref.
func buildAndPush(ctx context.Context, w io.Writer, dir, ref string, o Options, rep *Report) error {
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	code, err := forces.FS.ReadFile("src/forces.c")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(src, "forces.c"), code, 0o644); err != nil {
		return err
	}
	cfg := demoConfig(src)
	start := time.Now()
	res, err := build.Run(ctx, cfg, build.WithParallelism(o.Jobs), build.WithLogDir(filepath.Join(dir, "logs")))
	if err != nil {
		return fmt.Errorf("building the example: %w", err)
	}
	cc := ""
	for _, b := range res.Images {
		rep.Built = append(rep.Built, b.Entry.Name)
		cc = b.Compiler.Kind + " " + b.Compiler.Version
	}
	fmt.Fprintf(w, "built      %v with %s in %.1fs\n", rep.Built, cc, time.Since(start).Seconds())
	pushed, err := res.Publish(ctx, ref)
	if err != nil {
		return err
	}
	rep.Index = pushed
	fmt.Fprintf(w, "pushed     %s (%d entries, generic first)\n", pushed, len(res.Images))
	return nil
}

// demoConfig builds forces for every level of this machine's architecture;
// the levels the compiler cannot target are optional, hence skipped.
func demoConfig(src string) *build.Config {
	levels := []string{"x86_64", "x86_64_v2", "x86_64_v3", "x86_64_v4"}
	if runtime.GOARCH == "arm64" {
		levels = []string{"aarch64", "armv8.2a", "armv8.4a", "armv9.0a"}
	}
	cfg := &build.Config{
		Name:       "forces",
		Base:       "scratch",
		Command:    "$CC $CFLAGS -O3 -static -DTAILOR_TARGET=$TAILOR_TARGET -o $TAILOR_OUT/forces forces.c -lm || $CC $CFLAGS -O3 -DTAILOR_TARGET=$TAILOR_TARGET -o $TAILOR_OUT/forces forces.c -lm",
		Context:    src,
		Output:     "out",
		Prefix:     "/",
		Entrypoint: []string{"/forces"},
	}
	for i, l := range levels {
		cfg.Targets = append(cfg.Targets, build.TargetSpec{CPU: l, Optional: i > 0})
	}
	return cfg
}

func resolveAndRun(ctx context.Context, w io.Writer, dir, host, ref string, o Options, rep *Report) error {
	p := o.Profile
	if p == nil {
		var err error
		if p, err = detect.Host(ctx); err != nil {
			return fmt.Errorf("detecting this host: %w", err)
		}
	}
	rep.Host = p.CPU.Microarchitecture
	fmt.Fprintf(w, "host       %s (%s)\n", p.CPU.Microarchitecture, p.Platform)
	client, err := remote.New(remote.WithInsecure(host))
	if err != nil {
		return err
	}
	res, err := resolve.Resolve(ctx, client, ref, p)
	if err != nil {
		return fmt.Errorf("resolving %s for this host: %w", ref, err)
	}
	rep.Chosen = res.Chosen.Reqs.String()
	fmt.Fprintf(w, "resolved   entry %d, %s -> %s\n", res.Chosen.Index, rep.Chosen, res.Reference)
	generic := res.Candidates[0]
	for _, c := range res.Candidates {
		if c.Index == 0 {
			generic = c
		}
	}
	idx, err := client.Get(ctx, ref)
	if err != nil {
		return err
	}
	genBin, err := pullBinary(ctx, client, idx, generic.Descriptor.Digest, filepath.Join(dir, "generic"))
	if err != nil {
		return err
	}
	tailBin, err := pullBinary(ctx, client, idx, res.Digest, filepath.Join(dir, "tailored"))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "pulled     generic %s, tailored %s\n", short(generic.Descriptor.Digest), short(res.Digest))
	return compare(ctx, w, genBin, tailBin, o, rep)
}

func short(h v1.Hash) string { return h.String()[:19] }

// startRegistry serves tailor's registry (the one tailor serve embeds)
// on a loopback port; stop ends it.
func startRegistry(ctx context.Context, dir string) (host string, stop func(), err error) {
	reg, err := registry.New(ctx, dir)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		reg.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: reg, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), func() {
		_ = srv.Close()
		_ = reg.Close()
	}, nil
}
