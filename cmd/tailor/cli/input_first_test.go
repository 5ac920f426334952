package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadReferenceBeforeDetection: resolve, pull and run refuse a bad
// reference before they detect the host: nvidia-smi (a stand-in on PATH
// that leaves a mark) never runs, and the error is one line.
func TestBadReferenceBeforeDetection(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(dir, "ran")
	script := "#!/bin/sh\ntouch '" + mark + "'\necho 'NVIDIA-SMI has failed because it couldn'\\''t communicate with the NVIDIA driver.'\nexit 9\n"
	if err := os.WriteFile(filepath.Join(dir, "nvidia-smi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, args := range [][]string{
		{"resolve", "UPPER/App:1"},
		{"pull", "UPPER/App:1", "--dest", "oci:" + filepath.Join(dir, "out")},
		{"run", "UPPER/App:1", "--dry-run"},
		{"resolve", "oci:"},
	} {
		code, _, errs := runCLI(t, args...)
		if code != exitUsage || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%q: exit %d, stderr %q; want %d and one line", args, code, errs, exitUsage)
		}
		if _, err := os.Stat(mark); err == nil {
			t.Fatalf("%q detected the host (ran nvidia-smi) before refusing its reference", args)
		}
	}
}
