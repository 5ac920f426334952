package demo

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

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
	Target   string
	Times    []float64
	Median   float64
	Energy   float64
	Checksum float64
}

// pullBinary extracts /forces of the image dgst of idx's repository into dir.
func pullBinary(ctx context.Context, c *remote.Client, idx *remote.Manifest, dgst v1.Hash, dir string) (string, error) {
	img, err := c.Image(ctx, idx, dgst)
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

var outputPattern = regexp.MustCompile(`target=(\S+) .*energy=(\S+) checksum=(\S+) time=([0-9.]+)s`)

// parseOutput reads the example's output line.
func parseOutput(out string) (target string, energy, checksum, seconds float64, err error) {
	m := outputPattern.FindStringSubmatch(out)
	if m == nil {
		return "", 0, 0, 0, fmt.Errorf("unexpected output of the example: %q", out)
	}
	energy, _ = strconv.ParseFloat(m[2], 64)
	checksum, _ = strconv.ParseFloat(m[3], 64)
	seconds, err = strconv.ParseFloat(m[4], 64)
	return m[1], energy, checksum, seconds, err
}

// compare runs both binaries o.Runs times, alternating, checks their
// results agree and reports the median speedup.
func compare(ctx context.Context, w io.Writer, genBin, tailBin string, o Options, rep *Report) error {
	args := []string{strconv.Itoa(o.Size), strconv.Itoa(o.Steps)}
	fmt.Fprintf(w, "running    %d runs each, alternating: forces %s %s\n", o.Runs, args[0], args[1])
	for i := 0; i < o.Runs; i++ {
		for _, t := range []struct {
			bin string
			tm  *Timing
		}{{genBin, &rep.Generic}, {tailBin, &rep.Tailored}} {
			out, err := exec.CommandContext(ctx, t.bin, args...).Output()
			if err != nil {
				return fmt.Errorf("running %s: %w", t.bin, err)
			}
			target, e, c, s, err := parseOutput(string(out))
			if err != nil {
				return err
			}
			t.tm.Target, t.tm.Energy, t.tm.Checksum = target, e, c
			t.tm.Times = append(t.tm.Times, s)
		}
	}
	for _, tm := range []*Timing{&rep.Generic, &rep.Tailored} {
		tm.Median = median(tm.Times)
	}
	if d := max(relDiff(rep.Generic.Energy, rep.Tailored.Energy), relDiff(rep.Generic.Checksum, rep.Tailored.Checksum)); d > Tolerance {
		return fmt.Errorf("the builds disagree: generic energy %g checksum %g, tailored %g %g (relative difference %.2g > %g)",
			rep.Generic.Energy, rep.Generic.Checksum, rep.Tailored.Energy, rep.Tailored.Checksum, d, Tolerance)
	}
	rep.Speedup = rep.Generic.Median / rep.Tailored.Median
	fmt.Fprintf(w, "  generic  (%-10s) median %.3fs  energy=%.9e\n", rep.Generic.Target, rep.Generic.Median, rep.Generic.Energy)
	fmt.Fprintf(w, "  tailored (%-10s) median %.3fs  energy=%.9e  (agrees within %g)\n", rep.Tailored.Target, rep.Tailored.Median, rep.Tailored.Energy, Tolerance)
	fmt.Fprintf(w, "tailored (%s) vs generic: %.1fx\n", rep.Tailored.Target, rep.Speedup)
	return nil
}

func median(xs []float64) float64 {
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
