package cli

import (
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

// TestResolveExplainAssumedDriver: a hand-written profile names a GPU but
// no driver: the CUDA entry fits as if the driver were new enough, and
// --explain says that was assumed.
func TestResolveExplainAssumedDriver(t *testing.T) {
	host := registrytest.New(t, "")
	if _, err := resolvetest.Push(host+"/app:1", resolvetest.Variants); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "resolve", host+"/app:1", "--profile", "cpu=sapphirerapids,gpu=9.0", "--explain")
	if code != 0 {
		t.Fatalf("resolve: exit %d, stderr %q", code, errs)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "cuda=sm_90") {
			if !strings.HasPrefix(line, "1 ") || !strings.Contains(line, "fits, assuming: CUDA 12.4: the profile names no driver for GPU 9.0 (hand-written), taken to be new enough") {
				t.Errorf("the CUDA entry's line: %q, want rank 1 and the assumption", line)
			}
			return
		}
	}
	t.Errorf("no CUDA entry in --explain:\n%s", out)
}
