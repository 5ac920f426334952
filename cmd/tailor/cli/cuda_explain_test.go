package cli

import (
	"os"
	"path/filepath"
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

// TestQuietWithoutNVIDIADriver: nvidia-smi installed (as the CUDA toolkit
// packages install it) but no driver loaded, so it fails with exit status
// 9: commands that detect the host print nothing about GPUs (issue 18).
func TestQuietWithoutNVIDIADriver(t *testing.T) {
	for _, p := range []string{"/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/dxg"} {
		if _, err := os.Stat(p); err == nil {
			t.Skip("an NVIDIA driver is loaded here")
		}
	}
	dir := t.TempDir()
	smi := "#!/bin/sh\necho \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\"\nexit 9\n"
	if err := os.WriteFile(filepath.Join(dir, "nvidia-smi"), []byte(smi), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	code, _, errs := runCLI(t, "detect")
	if code != 0 || errs != "" {
		t.Errorf("detect: exit %d, stderr %q; want 0 and nothing", code, errs)
	}
	code, _, errs = runCLI(t, "resolve", "UPPER/App:1")
	if code != 2 || strings.Count(errs, "\n") != 1 || strings.Contains(errs, "GPU") {
		t.Errorf("resolve UPPER/App:1: exit %d, stderr %q; want 2 and one line about the reference", code, errs)
	}
}
