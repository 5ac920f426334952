// Package cuda_test builds examples/cuda, a stack with a real cuda axis,
// and verifies every entry's labels against the code nvcc put in it.
package cuda_test

import (
	"context"
	"os/exec"
	"testing"

	"github.com/tailor-dev/tailor/build"
	"github.com/tailor-dev/tailor/internal/tooltest"
	"github.com/tailor-dev/tailor/verify"
)

// TestExample builds the example with nvcc (skipped, with a line, where
// nvcc is missing; failed where TAILOR_REQUIRE_TOOLS names it) and runs
// tailor verify on every entry: each must be ok, the GPU entries with
// exactly the code they declare.
func TestExample(t *testing.T) {
	tooltest.Path(t, "nvcc")
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc is missing")
	}
	c, err := build.Load("tailor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := build.Run(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Plan.Skipped) > 0 || len(res.Images) != 4 {
		t.Fatalf("built %d entries, skipped %+v; want 4 (x86_64 CPU, x86_64_v3 CPU, Ampere, Hopper)", len(res.Images), res.Plan.Skipped)
	}
	var entries []verify.Entry
	for _, d := range res.Index.Manifest.Manifests {
		for _, b := range res.Images {
			if h, err := b.Image.Digest(); err == nil && h == d.Digest {
				entries = append(entries, verify.Entry{Descriptor: d, Image: b.Image})
			}
		}
	}
	results, err := verify.Images(ctx, entries, verify.WithRun(false))
	if err != nil {
		t.Fatal(err)
	}
	gpu := 0
	for i, r := range results {
		d := entries[i].Descriptor
		t.Logf("%s: %s %v, CUDA %+v", d.Annotations, r.Verdict, r.Reasons, r.Evidence.CUDA)
		if r.Verdict != verify.OK {
			t.Errorf("entry %v: %s %v, want ok", d.Annotations, r.Verdict, r.Reasons)
		}
		if arch := d.Annotations["dev.tailor.cuda.arch"]; arch != "" {
			gpu++
			if d.Annotations["dev.tailor.cuda.version"] == "" {
				t.Errorf("entry %v publishes no dev.tailor.cuda.version", d.Annotations)
			}
		}
	}
	if gpu != 2 {
		t.Errorf("%d GPU entries verified, want 2", gpu)
	}
}
