package demo

import (
	"bytes"
	"context"
	"log/slog"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/detect"
)

// TestDemoLoop runs the whole demo for real on this host: tailor serve in
// process, gcc building levels and named targets, the push, tailor's
// client and a stock pull through serve naming the same entry, and the
// binaries run and measured.
func TestDemoLoop(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("the demo builds x86-64 or arm64 levels")
	}
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("no C compiler")
	}
	ctx := context.Background()
	host, err := detect.Host(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep, err := Run(ctx, &out, Options{Runs: 1, Size: 512, Steps: 2, Jobs: 2, Profile: host})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	t.Logf("\n%s", out.String())
	if !strings.Contains(rep.Index, rep.Server+"/forces@sha256:") {
		t.Errorf("index %q was not pushed to tailor serve at %s", rep.Index, rep.Server)
	}
	if len(rep.Built) == 0 || rep.Built[0] != levels(runtime.GOARCH)[0] {
		t.Errorf("built %v, want the generic entry first", rep.Built)
	}
	if rep.Resolved.Digest != rep.Stock.Digest || rep.Resolved.Target != rep.Stock.Target {
		t.Errorf("tailor's client chose %+v, the stock pull through serve %+v", rep.Resolved, rep.Stock)
	}
	// The host gets the most specific build it can run: its own target
	// when that was built, else a named ancestor, else a level.
	if len(rep.Named) > 0 && rep.Tailored.Target != rep.Named[0] {
		t.Errorf("host %s was given %s, want %s (named built: %v)", rep.Host, rep.Tailored.Target, rep.Named[0], rep.Named)
	}
	if host.CPU.Microarchitecture != "" && !catalog.MustLookup(host.CPU.Microarchitecture).Generic() && len(rep.Named) == 0 {
		t.Errorf("host %s is a named target, yet no named target was built (skipped: %v)", host.CPU.Microarchitecture, rep.Skipped)
	}
	for _, pk := range rep.Others {
		if pk.Target != "generic" && !slices.Contains(rep.Built, pk.Target) {
			t.Errorf("serve gave %s the entry %s, which was not built (%v)", pk.Profile, pk.Target, rep.Built)
		}
	}
	if rep.Speedup <= 0 || rep.WallSpeedup <= 0 || rep.Generic == nil || rep.Generic.Target != rep.Built[0] {
		t.Errorf("report = %+v, generic %+v", rep, rep.Generic)
	}
	for _, want := range []string{"agree      both name ", "vs generic: ", "x CPU time ("} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

func TestChooseNamed(t *testing.T) {
	all := func(string) bool { return true }
	for _, tc := range []struct {
		host      string
		buildable func(string) bool
		want      []string
	}{
		{"icelake", all, []string{"icelake", "skylake", "ivybridge", "core2"}},
		{"icelake", func(n string) bool { return n != "icelake" && n != "skylake" },
			[]string{"cascadelake", "broadwell", "ivybridge", "core2"}},
		{"haswell", all, []string{"haswell", "ivybridge", "core2"}},
		{"zen4", all, []string{"zen4", "zen3"}},
		{"neoverse_v2", all, []string{"neoverse_v2", "neoverse_n1", "cortex_a72"}},
		{"x86_64_v3", all, nil},
		{"icelake", func(string) bool { return false }, nil},
	} {
		got := chooseNamed(namedCandidates(catalog.MustLookup(tc.host)), tc.buildable)
		if !slices.Equal(got, tc.want) {
			t.Errorf("chooseNamed(%s) = %v, want %v", tc.host, got, tc.want)
		}
	}
}

func TestOtherHosts(t *testing.T) {
	got := otherHosts("amd64", "zen2")
	if slices.Contains(got, "zen2") || !slices.Contains(got, "x86_64") || len(got) < 3 {
		t.Errorf("otherHosts(amd64, zen2) = %v", got)
	}
	for _, n := range slices.Concat(got, otherHosts("arm64", "")) {
		if _, err := catalog.Lookup(n); err != nil {
			t.Errorf("other host %s: %v", n, err)
		}
	}
}

func TestQuiet(t *testing.T) {
	var buf bytes.Buffer
	l := quiet(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	l.Warn("manifest by tag failed")
	l.With("k", "v").Error("disk full")
	if s := buf.String(); strings.Contains(s, "manifest by tag") || !strings.Contains(s, "disk full") || !strings.Contains(s, "k=v") {
		t.Errorf("quiet logged %q, want the error only", s)
	}
	buf.Reset()
	quiet(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))).Warn("kept with -v")
	if !strings.Contains(buf.String(), "kept with -v") {
		t.Errorf("quiet dropped a warning of a debug logger")
	}
}
