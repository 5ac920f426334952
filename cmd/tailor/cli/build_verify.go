package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/build"
	"github.com/tailor-dev/tailor/detect"
	"github.com/tailor-dev/tailor/verify"
)

// buildRunTimeout bounds the run of each built entry under qemu: long
// enough to start and reach its first loops (a SIGILL comes early); a
// program still computing then is stopped, which is no verdict against it.
// TCG emulates AVX2 code slowly: a full run would cost a build seconds per
// entry.
const buildRunTimeout = 2 * time.Second

// verifyBuilt verifies every entry build made, before anything is
// published: a matrix whose labels lie (a command that ignored the
// target's flags, an -march that goes beyond the target) is refused.
func verifyBuilt(ctx context.Context, errw io.Writer, res *build.Result, jobs int) error {
	raw, err := res.Index.RawManifest()
	if err != nil {
		return err
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	images := map[v1.Hash]v1.Image{}
	for _, b := range res.Images {
		d, err := b.Image.Digest()
		if err != nil {
			return err
		}
		images[d] = b.Image
	}
	var entries []verify.Entry
	for _, d := range im.Manifests {
		if img, ok := images[d.Digest]; ok {
			entries = append(entries, verify.Entry{Descriptor: d, Image: img})
		}
	}
	opts := []verify.Option{verify.WithJobs(max(jobs, 1)), verify.WithRunTimeout(buildRunTimeout), verify.WithLogger(slog.Default())}
	if host, err := detect.Host(ctx, detect.WithLabelsFile("")); err == nil {
		opts = append(opts, verify.WithHost(host))
	}
	results, err := verify.Images(ctx, entries, opts...)
	if err != nil {
		return fmt.Errorf("verifying the built images: %w", err)
	}
	var lies []string
	counts := map[verify.Verdict]int{}
	for _, r := range results {
		counts[r.Verdict]++
		if r.Verdict == verify.Mislabeled {
			lies = append(lies, fmt.Sprintf("entry %d (%s): %s", r.Index, r.Declared, strings.Join(r.Reasons, "; ")))
		}
	}
	fmt.Fprintf(errw, "verified: %d ok, %d mislabeled, %d unverified\n", counts[verify.OK], counts[verify.Mislabeled], counts[verify.Unverified])
	if len(lies) > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("refusing to publish: %d entries need more than their labels say (tailor verify; --verify=false publishes anyway):\n  %s", len(lies), strings.Join(lies, "\n  "))}
	}
	return nil
}
