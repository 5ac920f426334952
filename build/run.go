package build

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/publish"
	"github.com/tailor-dev/tailor/stack"
	"golang.org/x/sync/errgroup"
)

// Event reports progress of one command build.
type Event struct {
	// N is the build's position (1-based) among Total.
	N, Total int
	// Label is the build's key (num[x86_64_v3]).
	Label string
	// State is "building", "built" or "failed".
	State   string
	Elapsed time.Duration
	// Log is the path of the build's log file.
	Log string
	Err error
}

// Built is one entry's image.
type Built struct {
	Entry stack.Entry
	Image v1.Image
	// Compiler is the C compiler of the entry's cpu value (nil when no
	// component compiled for the CPU).
	Compiler *Compiler
}

// Result is a finished build: every entry's image, the index over them
// and the report. Nothing has left the machine yet: Publish does that.
type Result struct {
	Plan   *Plan
	Images []Built
	Index  *publish.Index
	Report Report
	// LogDir holds one log per command build: the WithLogDir directory,
	// or "" when the temporary one was removed after the build succeeded.
	LogDir string

	// o are the options Run was given, which Publish uses too; tag is
	// the file's image tag, the default name in an OCI layout.
	o   *options
	tag string
	// layers is the temporary directory of the packed layers, removed by
	// Close.
	layers string
}

// Close removes the packed layers: Publish no longer works after it.
func (r *Result) Close() error {
	if r == nil || r.layers == "" {
		return nil
	}
	err := os.RemoveAll(r.layers)
	r.layers = ""
	return err
}

// Run builds every component build of c's plan, up to WithParallelism at
// once, each once however many entries take it, then assembles every
// entry's image and the index over them. The first failure cancels the
// rest and is returned; nothing is pushed or written anywhere but the
// logs and the packed layers (a temporary directory: Close the Result).
func Run(ctx context.Context, c *Config, opts ...Option) (*Result, error) {
	p, err := NewPlan(ctx, c, opts...)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx)
}

// Run builds the plan, as Run does, with the options NewPlan was given.
func (p *Plan) Run(ctx context.Context) (*Result, error) {
	o, c := p.o, p.cfg
	r := &runner{o: o, p: p, c: c, layers: map[string]*built{}}
	// Base images first: a missing one fails the build before anything
	// is compiled.
	if err := r.fetchBases(ctx); err != nil {
		return nil, err
	}
	var err error
	logDir, keepLogs := o.logDir, o.logDir != ""
	if keepLogs {
		err = os.MkdirAll(logDir, 0o755)
	} else {
		logDir, err = os.MkdirTemp("", "tailor-build-logs-")
	}
	if err != nil {
		return nil, err
	}
	if r.work, err = os.MkdirTemp("", "tailor-build-"); err != nil {
		return nil, err
	}
	defer os.RemoveAll(r.work)
	// The packed layers outlive the build's files: Publish reads them.
	if r.layerDir, err = os.MkdirTemp("", "tailor-build-layers-"); err != nil {
		return nil, err
	}
	r.logDir = logDir
	if err := r.buildAll(ctx); err != nil {
		os.RemoveAll(r.layerDir)
		return nil, err // the logs stay, for the failure
	}
	res, err := r.result()
	if err != nil {
		os.RemoveAll(r.layerDir)
		return nil, err
	}
	res.layers = r.layerDir
	if !keepLogs {
		os.RemoveAll(logDir)
		logDir = ""
	}
	res.LogDir = logDir
	return res, nil
}

// built is one component build's result; done closes when it is known.
type built struct {
	layer v1.Layer
	image v1.Image // an image component's base
	// out is the directory of the build's files (for components that
	// use it), prefix where they go in the image.
	out, prefix string
	err         error
	done        chan struct{}
}

// runner holds one Run's state.
type runner struct {
	o            *options
	p            *Plan
	c            *Config
	work, logDir string
	layerDir     string // where layers are packed (Result.layers)
	layers       map[string]*built
	mu           sync.Mutex
	started      int
}

// fetchBases fetches the image of every build of an image component.
func (r *runner) fetchBases(ctx context.Context) error {
	for _, b := range r.p.Matrix.Builds {
		comp := r.p.Component(b.Component)
		if comp.Kind() != KindImage {
			continue
		}
		img, err := r.o.baseImage(ctx, substitute(comp.Image, b.Values), b.Arch)
		if err != nil {
			return err
		}
		r.layers[b.Key] = &built{image: img, done: closed()}
	}
	return nil
}

func closed() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// buildAll runs the dir and command builds, in component order (a build
// only waits for builds started before it, so the limit cannot deadlock).
func (r *runner) buildAll(ctx context.Context) error {
	var todo []stack.Build
	for _, b := range r.p.Matrix.Builds {
		if r.layers[b.Key] == nil {
			r.layers[b.Key] = &built{done: make(chan struct{})}
			todo = append(todo, b)
		}
	}
	total := 0
	for _, b := range todo {
		if r.p.Component(b.Component).Kind() == KindCommand {
			total++
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.o.jobs)
	for _, b := range todo {
		g.Go(func() error {
			res := r.layers[b.Key]
			defer close(res.done)
			if gctx.Err() != nil {
				res.err = gctx.Err() // another build failed: do not start
				return res.err
			}
			res.err = r.build(gctx, b, total)
			return res.err
		})
	}
	return g.Wait()
}

// build makes the layer of b.
func (r *runner) build(ctx context.Context, b stack.Build, total int) error {
	comp := r.p.Component(b.Component)
	res := r.layers[b.Key]
	res.prefix = comp.Prefix
	if comp.Kind() == KindDir {
		res.out = substitute(comp.Dir, b.Values)
		if err := insideDir(comp.root, res.out); err != nil {
			return fmt.Errorf("component %s: dir: %w", b.Key, err)
		}
		if st, err := os.Stat(res.out); err != nil || !st.IsDir() {
			return fmt.Errorf("%w: component %s: dir %s is no directory", ErrConfig, b.Key, res.out)
		}
		var err error
		res.layer, err = newLayer(res.out, comp.Prefix, r.o.epoch, r.layerDir)
		return err
	}
	deps, err := r.deps(ctx, b, comp)
	if err != nil {
		return err
	}
	dir := filepath.Join(r.work, fileName(b.Key))
	s := step{
		label: b.Key, command: comp.Command, context: comp.Context, dir: dir,
		out: filepath.Join(dir, comp.Output), log: filepath.Join(r.logDir, fileName(b.Key)+".log"),
		env: r.p.Env(b, r.c.Env, r.o.epoch.Unix()), emptyOK: r.p.mayBeEmpty(b),
	}
	if len(deps) > 0 {
		root := dir + ".root"
		for _, d := range deps {
			if err := copyTree(d.out, filepath.Join(root, d.prefix)); err != nil {
				return fmt.Errorf("laying out the components %s uses: %w", b.Key, err)
			}
		}
		s.env = append(s.env, "TAILOR_ROOT="+root)
	}
	s.env = append(s.env, "TAILOR_OUT="+s.out)
	n := r.next()
	report := func(state string, d time.Duration, err error) {
		r.o.report(Event{N: n, Total: total, Label: b.Key, State: state, Elapsed: d, Log: s.log, Err: err})
	}
	start := time.Now()
	report("building", 0, nil)
	err = s.run(ctx)
	if err == nil {
		res.out = s.out
		res.layer, err = newLayer(s.out, comp.Prefix, r.o.epoch, r.layerDir)
	}
	if err != nil {
		report("failed", time.Since(start), err)
		return err
	}
	report("built", time.Since(start), nil)
	return nil
}

func (r *runner) next() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.started++
	return r.started
}

func (o *options) report(e Event) {
	if o.progress != nil {
		o.progressMu.Lock()
		defer o.progressMu.Unlock()
		o.progress(e)
	}
}

// deps waits for the builds b's component uses (the ones its entries
// take) and returns them in component order.
func (r *runner) deps(ctx context.Context, b stack.Build, comp ComponentSpec) ([]*built, error) {
	if len(comp.Uses) == 0 {
		return nil, nil
	}
	e := r.entry(b.Entries[0])
	var out []*built
	for i, c := range r.p.Components {
		if !slices.Contains(comp.Uses, c.Name) {
			continue
		}
		d := r.layers[e.Builds[i]]
		select {
		case <-d.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if d.err != nil {
			return nil, d.err
		}
		out = append(out, d)
	}
	return out, nil
}

func (r *runner) entry(name string) stack.Entry {
	i := slices.IndexFunc(r.p.Matrix.Entries, func(e stack.Entry) bool { return e.Name == name })
	return r.p.Matrix.Entries[i]
}

// result assembles every entry's image, the index and the report.
func (r *runner) result() (*Result, error) {
	res := &Result{Plan: r.p, o: r.o, tag: layoutTag(r.c.Image)}
	for _, e := range r.p.Matrix.Entries {
		base, baseName := scratch(), ""
		var parts []part
		for i, comp := range r.p.Components {
			b := r.layers[e.Builds[i]]
			if comp.Kind() == KindImage {
				base, baseName = b.image, comp.Name
				continue
			}
			parts = append(parts, part{component: comp.Name, key: e.Builds[i], layer: b.layer})
		}
		img, err := assemble(base, baseName, parts, e, r.c, r.o.epoch)
		if err != nil {
			return nil, fmt.Errorf("assembling %s: %w", e.Name, err)
		}
		res.Images = append(res.Images, Built{Entry: e, Image: img, Compiler: r.p.Compiler(e)})
	}
	entries := make([]publish.Entry, len(res.Images))
	for i, b := range res.Images {
		d, err := descriptor(b)
		if err != nil {
			return nil, err
		}
		entries[i] = publish.Entry{Name: b.Entry.Name, Descriptor: d, Requirements: b.Entry.Requirements}
	}
	idx, err := publish.NewIndex(entries)
	if err != nil {
		return nil, err
	}
	res.Index = idx
	if res.Report, err = report(res.Images); err != nil {
		return nil, err
	}
	return res, nil
}

func descriptor(b Built) (v1.Descriptor, error) {
	raw, err := b.Image.RawManifest()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("the %s image: %w", b.Entry.Name, err)
	}
	mt, err := b.Image.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	d, err := b.Image.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{
		MediaType: mt, Size: int64(len(raw)), Digest: d,
		Platform: &v1.Platform{OS: "linux", Architecture: b.Entry.Arch},
	}, nil
}
