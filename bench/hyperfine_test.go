package bench

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHyperfine times `tailor resolve`, crane and the ggcr baseline side by side
// with hyperfine, against the same local registry as the benchmark. It
// runs only with TAILOR_BENCH_HYPERFINE=1 and hyperfine on PATH:
//
//	TAILOR_BENCH_HYPERFINE=1 go test -run Hyperfine -v ./bench/
func TestHyperfine(t *testing.T) {
	if os.Getenv("TAILOR_BENCH_HYPERFINE") == "" {
		t.Skip("set TAILOR_BENCH_HYPERFINE=1 to run")
	}
	hf, err := exec.LookPath("hyperfine")
	if err != nil {
		t.Skip("hyperfine not on PATH")
	}
	setupOnce.Do(func() { shared, setupErr = newEnv() })
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	e := shared
	ref := e.proxy + "/app:1"
	report := filepath.Join(t.TempDir(), "hyperfine.json")
	out, err := exec.Command(hf, "-N", "--warmup", "10", "--runs", "200", "--style", "basic",
		"--export-json", report,
		"-n", "tailor resolve --profile cpu=zen4", e.tailor+" resolve "+ref+" --profile cpu=zen4",
		"-n", "crane digest --platform", e.crane+" digest --platform linux/amd64 "+ref,
		"-n", "ggcrdigest (crane.Digest alone, no cobra)", e.ggcr+" --platform linux/amd64 "+ref,
		"-n", "tailor resolve (host detection)", e.tailor+" resolve "+ref,
		"-n", "tailor --help (process start only)", e.tailor+" --help",
	).CombinedOutput()
	if err != nil {
		t.Fatalf("hyperfine: %v\n%s", err, out)
	}
	table, err := summarize(report)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("hyperfine, 200 runs each (ms):\n%s", table)
}

// summarize turns hyperfine's JSON export into a markdown table of
// median, mean and min, with the median relative to the second command
// (crane).
func summarize(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var doc struct {
		Results []struct {
			Command                string
			Mean, Median, Min, Max float64
			Stddev                 float64
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return "", err
	}
	if len(doc.Results) < 2 {
		return "", fmt.Errorf("hyperfine: %d results", len(doc.Results))
	}
	base := doc.Results[1].Median
	var b strings.Builder
	b.WriteString("| command | median | mean ± σ | min | median / crane |\n|---|---:|---:|---:|---:|\n")
	for _, r := range doc.Results {
		fmt.Fprintf(&b, "| %s | %.1f | %.1f ± %.1f | %.1f | %.2f |\n", r.Command, r.Median*1e3, r.Mean*1e3, r.Stddev*1e3, r.Min*1e3, r.Median/base)
	}
	return b.String(), nil
}
