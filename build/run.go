package build

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/publish"
	"golang.org/x/sync/errgroup"
)

// Event reports progress of one target.
type Event struct {
	// N is the target's position (1-based) among Total.
	N, Total int
	Label    string
	// State is "building", "built" or "failed".
	State   string
	Elapsed time.Duration
	// Log is the path of the target's log file.
	Log string
	Err error
}

// Built is one target's image.
type Built struct {
	Job      Job
	Image    v1.Image
	Log      string
	Duration time.Duration
}

// Result is a finished matrix: every image and the index over them.
type Result struct {
	Images  []Built
	Skipped []Skipped
	Index   *publish.Index
	// LogDir holds one log per target.
	LogDir string

	// o are the options Run was given, which Push uses too.
	o *options
}

// BuildError is a target whose command failed, with the end of its log.
type BuildError struct {
	Label string
	Log   string
	// Tail is the end of the log, indented, for people.
	Tail string
	Err  error
}

// Error is one line: the target, the failure, the log, and the log's last
// line (usually the compiler's error).
func (e *BuildError) Error() string {
	msg := fmt.Sprintf("building %s failed: %v (log %s)", e.Label, e.Err, e.Log)
	if last := lastLine(e.Tail); last != "" {
		msg += ": " + last
	}
	return msg
}

func (e *BuildError) Unwrap() error { return e.Err }

// lastLine is the last line of tail that is not empty.
func lastLine(tail string) string {
	lines := strings.Split(tail, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}

// Run builds every target of c, up to WithParallelism at once, and the
// index over the images. The first failure cancels the rest and is
// returned; nothing is pushed or written anywhere but the logs.
func Run(ctx context.Context, c *Config, opts ...Option) (*Result, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	jobs, skipped, err := o.plan(ctx, c)
	if err != nil {
		return nil, err
	}
	bases, err := o.baseImages(ctx, c.Base, jobs)
	if err != nil {
		return nil, err
	}
	if o.logDir == "" {
		if o.logDir, err = os.MkdirTemp("", "tailor-build-logs-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(o.logDir, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "tailor-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	built := make([]Built, len(jobs))
	var mu sync.Mutex
	report := func(e Event) {
		if o.progress != nil {
			mu.Lock()
			defer mu.Unlock()
			o.progress(e)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.jobs)
	for i, job := range jobs {
		g.Go(func() error {
			if gctx.Err() != nil {
				return gctx.Err() // another target failed: do not start
			}
			b, err := o.runJob(gctx, c, job, bases[job.Target.Architecture()], work, func(state string, d time.Duration, log string, err error) {
				report(Event{N: i + 1, Total: len(jobs), Label: job.Label, State: state, Elapsed: d, Log: log, Err: err})
			})
			built[i] = b
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	idx, err := publish.NewIndex(entries(built))
	if err != nil {
		return nil, err
	}
	return &Result{Images: built, Skipped: skipped, Index: idx, LogDir: o.logDir, o: o}, nil
}

type reportFunc func(state string, d time.Duration, log string, err error)

func (o *options) runJob(ctx context.Context, c *Config, job Job, base v1.Image, work string, report reportFunc) (Built, error) {
	logPath := filepath.Join(o.logDir, job.Label+".log")
	start := time.Now()
	report("building", 0, logPath, nil)
	dir := filepath.Join(work, job.Label)
	err := o.execute(ctx, c, job, dir, logPath)
	var img v1.Image
	if err == nil {
		img, err = pack(base, job, c, filepath.Join(dir, c.Output))
	}
	if err != nil {
		report("failed", time.Since(start), logPath, err)
		return Built{}, err
	}
	d := time.Since(start)
	report("built", d, logPath, nil)
	return Built{Job: job, Image: img, Log: logPath, Duration: d}, nil
}

// execute copies the context to dir and runs the command there, its output
// in the log.
func (o *options) execute(ctx context.Context, c *Config, job Job, dir, logPath string) error {
	if err := copyTree(c.Context, dir); err != nil {
		return fmt.Errorf("copying the context of %s: %w", job.Label, err)
	}
	out := filepath.Join(dir, c.Output)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "# tailor build %s\n# %s\n", job.Label, strings.Join(job.Env, "\n# "))
	cmd := exec.CommandContext(ctx, "sh", "-c", c.Command)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), job.Env...), "TAILOR_OUT="+out)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("building %s: cancelled: %w", job.Label, ctx.Err())
		}
		return &BuildError{Label: job.Label, Log: logPath, Tail: tail(logPath, 20), Err: err}
	}
	entriesLeft, err := os.ReadDir(out)
	if err == nil && len(entriesLeft) == 0 {
		return &BuildError{Label: job.Label, Log: logPath, Tail: tail(logPath, 20), Err: fmt.Errorf("the command left %s empty (write the files to pack into $TAILOR_OUT)", c.Output)}
	}
	return err
}

// tail is the last n lines of the command's output in the log at path
// (not the "# " header execute writes first), indented.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for len(lines) > 0 && strings.HasPrefix(lines[0], "# ") {
		lines = lines[1:]
	}
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

// copyTree copies regular files, directories and symlinks of src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if d.Name() == ".git" && path != src {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			return copyFile(path, target)
		}
		return nil
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func entries(built []Built) []publish.Entry {
	out := make([]publish.Entry, len(built))
	for i, b := range built {
		out[i] = publish.Entry{Name: b.Job.Label, Descriptor: descriptor(b), Requirements: b.Job.Requirements}
	}
	return out
}

func descriptor(b Built) v1.Descriptor {
	raw, _ := b.Image.RawManifest()
	mt, _ := b.Image.MediaType()
	h, size, _ := v1.SHA256(bytes.NewReader(raw))
	return v1.Descriptor{
		MediaType: mt, Size: size, Digest: h,
		Platform: &v1.Platform{OS: "linux", Architecture: b.Job.Target.Architecture()},
	}
}
