package demo

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/tailor-dev/tailor/remote"
)

// Tolerance is the largest relative difference allowed between the energy
// and checksum of two builds: FMA contraction and wider vectors change the
// last bits of a double, not the sixth digit.
const Tolerance = 1e-6

// Timing is one binary's runs.
type Timing struct {
	// Label is its role: generic, level or tailored.
	Label string
	// Target is the target it was built for, as the binary prints it.
	Target string
	// CPU is each run's CPU time: user+sys of the process (rusage).
	CPU []time.Duration
	// Wall is each run's elapsed time, start to exit.
	Wall                  []time.Duration
	MedianCPU, MedianWall time.Duration
	Energy, Checksum      float64

	bin string
}

// pullBinary extracts /forces of the image dgst of m's repository into dir.
func pullBinary(ctx context.Context, c *remote.Client, m *remote.Manifest, dgst v1.Hash, dir string) (string, error) {
	img, err := c.Image(ctx, m, dgst)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("image %s has no /forces", dgst)
		}
		if err != nil {
			return "", fmt.Errorf("reading image %s: %w", dgst, err)
		}
		if filepath.Clean("/"+h.Name) != "/forces" {
			continue
		}
		path := filepath.Join(dir, "forces")
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		if err != nil {
			return "", err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return "", err
		}
		return path, f.Close()
	}
}

// output is the example's one line of output.
type output struct {
	Target           string
	N, Steps         int
	Energy, Checksum float64
	Seconds          float64
}

// outputKeys are the fields of the example's line, in order.
var outputKeys = []string{"target", "n", "steps", "energy", "checksum", "time"}

// parseOutput reads the example's output: exactly one line,
// "target=T n=N steps=S energy=E checksum=C time=Xs", every number finite.
// Anything else is an error: a result the demo cannot read is no result.
func parseOutput(out []byte) (output, error) {
	var o output
	line, ok := strings.CutSuffix(string(out), "\n")
	if !ok || strings.Contains(line, "\n") {
		return o, fmt.Errorf("want one line of output, got %q", out)
	}
	fields := strings.Split(line, " ")
	if len(fields) != len(outputKeys) {
		return o, fmt.Errorf("want %d fields (%s), got %d in %q", len(outputKeys), strings.Join(outputKeys, " "), len(fields), line)
	}
	vals := make([]string, len(fields))
	for i, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		if k != outputKeys[i] || v == "" {
			return o, fmt.Errorf("field %d is %q, want %s=VALUE, in %q", i+1, f, outputKeys[i], line)
		}
		vals[i] = v
	}
	o.Target = vals[0]
	var errs []error
	o.N, errs = atoi(vals[1], "n", errs)
	o.Steps, errs = atoi(vals[2], "steps", errs)
	o.Energy, errs = atof(vals[3], "energy", errs)
	o.Checksum, errs = atof(vals[4], "checksum", errs)
	secs, ok := strings.CutSuffix(vals[5], "s")
	if !ok {
		errs = append(errs, fmt.Errorf("time %q lacks its unit s", vals[5]))
	}
	o.Seconds, errs = atof(secs, "time", errs)
	if err := errors.Join(errs...); err != nil {
		return o, fmt.Errorf("%w, in %q", err, line)
	}
	return o, nil
}

func atoi(s, key string, errs []error) (int, []error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, append(errs, fmt.Errorf("%s %q is no integer", key, s))
	}
	return n, errs
}

func atof(s, key string, errs []error) (float64, []error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, append(errs, fmt.Errorf("%s %q is no finite number", key, s))
	}
	return f, errs
}

// runOnce runs bin once and measures it: CPU time from the child's
// rusage (user+sys), which load on a shared machine barely moves, and
// the wall time beside it.
func runOnce(ctx context.Context, bin string, args []string) (out []byte, cpu, wall time.Duration, err error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start)
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		if msg != "" {
			return nil, 0, 0, fmt.Errorf("%w: %s", err, msg)
		}
		return nil, 0, 0, err
	}
	return stdout.Bytes(), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), wall, nil
}

// measure runs every binary o.Runs times, alternating so that load on the
// machine falls on all alike, and checks each run's output: one parsable
// line, the target the binary was built for, the run's size, and the same
// result every run.
func measure(ctx context.Context, ts []*Timing, o Options) error {
	args := []string{strconv.Itoa(o.Size), strconv.Itoa(o.Steps)}
	for i := 0; i < o.Runs; i++ {
		for _, t := range ts {
			out, cpu, wall, err := runOnce(ctx, t.bin, args)
			if err != nil {
				return fmt.Errorf("running the %s build (%s), %s: %w", t.Label, t.Target, t.bin, err)
			}
			got, err := parseOutput(out)
			if err != nil {
				return fmt.Errorf("the %s build (%s) printed what the demo cannot read: %w", t.Label, t.Target, err)
			}
			switch {
			case got.Target != t.Target:
				return fmt.Errorf("the %s build printed target=%s, want %s (the entry it was pulled as)", t.Label, got.Target, t.Target)
			case got.N != o.Size || got.Steps != o.Steps:
				return fmt.Errorf("the %s build (%s) printed n=%d steps=%d, want %d %d", t.Label, t.Target, got.N, got.Steps, o.Size, o.Steps)
			case i > 0 && (got.Energy != t.Energy || got.Checksum != t.Checksum):
				return fmt.Errorf("the %s build (%s) gave energy %g checksum %g, and %g %g before: the same binary must agree with itself",
					t.Label, t.Target, got.Energy, got.Checksum, t.Energy, t.Checksum)
			}
			t.Energy, t.Checksum = got.Energy, got.Checksum
			t.CPU, t.Wall = append(t.CPU, cpu), append(t.Wall, wall)
		}
	}
	for _, t := range ts {
		t.MedianCPU, t.MedianWall = median(t.CPU), median(t.Wall)
		if t.MedianCPU <= 0 {
			return fmt.Errorf("the %s build (%s) used no measurable CPU time: raise --size or --steps", t.Label, t.Target)
		}
	}
	return agree(ts)
}

// agree checks that every build computed what the first (the generic
// one) did, within Tolerance.
func agree(ts []*Timing) error {
	g := ts[0]
	for _, t := range ts[1:] {
		if d := max(relDiff(g.Energy, t.Energy), relDiff(g.Checksum, t.Checksum)); !(d <= Tolerance) {
			return fmt.Errorf("the builds disagree: %s (%s) energy %g checksum %g, %s (%s) %g %g (relative difference %.2g > %g)",
				g.Label, g.Target, g.Energy, g.Checksum, t.Label, t.Target, t.Energy, t.Checksum, d, Tolerance)
		}
	}
	return nil
}

func median(xs []time.Duration) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func relDiff(a, b float64) float64 {
	if a == b {
		return 0
	}
	return math.Abs(a-b) / max(math.Abs(a), math.Abs(b))
}
