package bench

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDetectFailingSMI runs `tailor detect -o json` as a whole process
// on this machine (no NVIDIA driver) with no nvidia-smi on PATH, then with
// one that fails as nvidia-smi does where the toolkit is installed but no
// driver is loaded (the message and exit status 9): the second must cost
// no more than 1.5x the first (issue 20). CPU time is the child's rusage.
func BenchmarkDetectFailingSMI(b *testing.B) {
	e := setup(b)
	bare := b.TempDir()
	failing := b.TempDir()
	script := "#!/bin/sh\necho \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\"\nexit 9\n"
	if err := os.WriteFile(filepath.Join(failing, "nvidia-smi"), []byte(script), 0o755); err != nil {
		b.Fatal(err)
	}
	b.Run("no-nvidia-smi", func(b *testing.B) {
		b.Setenv("PATH", bare)
		runUsage(b, e.tailor, "detect", "-o", "json")
	})
	b.Run("failing-nvidia-smi", func(b *testing.B) {
		b.Setenv("PATH", failing)
		runUsage(b, e.tailor, "detect", "-o", "json")
	})
}
