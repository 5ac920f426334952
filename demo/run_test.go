package demo

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

const goodLine = "target=x86_64_v3 n=4096 steps=8 energy=-1.556125945367e+04 checksum=1.105892059282e+05 time=0.1254s\n"

func TestParseOutput(t *testing.T) {
	o, err := parseOutput([]byte(goodLine))
	if err != nil || o != (output{"x86_64_v3", 4096, 8, -1.556125945367e+04, 1.105892059282e+05, 0.1254}) {
		t.Errorf("parseOutput(%q) = %+v, %v", goodLine, o, err)
	}
	bad := map[string]string{
		"garbage":        "Segmentation fault\n",
		"empty":          "",
		"no newline":     strings.TrimSuffix(goodLine, "\n"),
		"two lines":      goodLine + goodLine,
		"a warning too":  "warning: something\n" + goodLine,
		"nan energy":     strings.Replace(goodLine, "-1.556125945367e+04", "nan", 1),
		"-nan checksum":  strings.Replace(goodLine, "1.105892059282e+05", "-nan", 1),
		"inf energy":     strings.Replace(goodLine, "-1.556125945367e+04", "inf", 1),
		"empty energy":   strings.Replace(goodLine, "-1.556125945367e+04", "", 1),
		"text energy":    strings.Replace(goodLine, "-1.556125945367e+04", "-1.5e+04x", 1),
		"n not integer":  strings.Replace(goodLine, "n=4096", "n=4096.5", 1),
		"no time unit":   strings.Replace(goodLine, "0.1254s", "0.1254", 1),
		"extra field":    strings.Replace(goodLine, "\n", " extra=1\n", 1),
		"missing field":  strings.Replace(goodLine, "steps=8 ", "", 1),
		"order changed":  "n=4096 target=x86_64_v3 steps=8 energy=1 checksum=1 time=0.1s\n",
		"double spaces":  strings.Replace(goodLine, " n=", "  n=", 1),
		"key misspelled": strings.Replace(goodLine, "energy=", "enrgy=", 1),
	}
	for name, in := range bad {
		if o, err := parseOutput([]byte(in)); err == nil {
			t.Errorf("%s: parseOutput(%q) = %+v, want an error", name, in, o)
		}
	}
}

// script writes an executable shell script that burns a little CPU
// (so rusage has something to count) and then runs body.
func script(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	text := "#!/bin/sh\ni=0; while [ $i -lt 3000 ]; do i=$((i+1)); done\n" + body + "\n"
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func line(target string, energy string) string {
	return fmt.Sprintf(`echo "target=%s n=$1 steps=$2 energy=%s checksum=2.5e+05 time=0.0100s"`, target, energy)
}

// TestMeasure runs real processes standing in for the example's builds:
// readable, agreeing output passes and is timed by rusage; output the demo
// cannot read, or that disagrees, fails the demo with a message that names
// the build.
func TestMeasure(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell scripts stand in for the builds")
	}
	ctx := context.Background()
	o := Options{Runs: 2, Size: 64, Steps: 3}
	gen := script(t, "generic", line("x86_64", "-1.5e+04"))
	ts := []*Timing{{Label: "generic", Target: "x86_64", bin: gen},
		{Label: "tailored", Target: "icelake", bin: script(t, "tailored", line("icelake", "-1.50000000001e+04"))}}
	if err := measure(ctx, ts, o); err != nil {
		t.Fatalf("measure: %v", err)
	}
	for _, tm := range ts {
		if len(tm.CPU) != 2 || len(tm.Wall) != 2 || tm.MedianCPU <= 0 || tm.MedianWall <= 0 || tm.Energy == 0 {
			t.Errorf("%s timing = %+v", tm.Label, tm)
		}
	}

	counter := filepath.Join(t.TempDir(), "count")
	for name, tc := range map[string]struct{ body, want string }{
		"garbage":       {`echo "Segmentation fault"`, "cannot read"},
		"nan":           {line("icelake", "nan"), "cannot read"},
		"nothing":       {`true`, "cannot read"},
		"wrong target":  {line("skylake", "-1.5e+04"), "target=skylake, want icelake"},
		"wrong size":    {`echo "target=icelake n=65 steps=3 energy=-1.5e+04 checksum=2.5e+05 time=0.0100s"`, "n=65 steps=3, want 64 3"},
		"disagrees":     {line("icelake", "-1.6e+04"), "the builds disagree"},
		"unstable":      {`echo x >> ` + counter + `; e=$(wc -l < ` + counter + `); ` + line("icelake", "-1.5e+0$((3+e))"), "must agree with itself"},
		"crashes":       {`echo "illegal instruction" >&2; kill -ILL $$`, "illegal instruction"},
		"exits nonzero": {`echo "forces: out of memory" >&2; exit 1`, "out of memory"},
	} {
		ts := []*Timing{{Label: "generic", Target: "x86_64", bin: gen},
			{Label: "tailored", Target: "icelake", bin: script(t, "tailored", tc.body)}}
		err := measure(ctx, ts, o)
		t.Logf("%s: %v", name, err)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "tailored") {
			t.Errorf("%s: measure = %v, want an error naming the tailored build and %q", name, err, tc.want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{{[]time.Duration{3, 1, 2}, 2}, {[]time.Duration{4, 1, 2, 3}, 2}, {nil, 0}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// FuzzParseOutput: no input panics the parser, and what it accepts is a
// result: one line, finite numbers, and the same result when the fields
// are printed back as the example prints them.
func FuzzParseOutput(f *testing.F) {
	f.Add([]byte(goodLine))
	f.Add([]byte("target=icelake n=2 steps=1 energy=nan checksum=1 time=0s\n"))
	f.Add([]byte("Segmentation fault\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		o, err := parseOutput(in)
		if err != nil {
			return
		}
		if math.IsNaN(o.Energy) || math.IsInf(o.Energy, 0) || math.IsNaN(o.Checksum) || math.IsInf(o.Checksum, 0) ||
			math.IsNaN(o.Seconds) || math.IsInf(o.Seconds, 0) || strings.Count(string(in), "\n") != 1 {
			t.Fatalf("parseOutput(%q) accepted %+v", in, o)
		}
		again := fmt.Sprintf("target=%s n=%d steps=%d energy=%.17g checksum=%.17g time=%.17gs\n", o.Target, o.N, o.Steps, o.Energy, o.Checksum, o.Seconds)
		if o2, err := parseOutput([]byte(again)); err != nil || o2 != o {
			t.Fatalf("parseOutput(%q) = %+v; printed back %q it reads %+v, %v", in, o, again, o2, err)
		}
	})
}
