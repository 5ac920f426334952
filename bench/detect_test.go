package bench

import (
	"os/exec"
	"testing"
	"time"

	"github.com/tailor-dev/tailor/internal/sharedtest"
)

// archspecFloor is the least work archspec's `archspec cpu` does in its
// Python process: start the interpreter, load microarchitectures.json,
// read /proc/cpuinfo. archspec itself (a Python package, not installable
// from the registries these machines reach) does all this and more, so
// its time and memory are at least these: a lower bound to compare with.
const archspecFloor = `import json, sys
db = json.load(open(sys.argv[1]))
flags = set()
for line in open("/proc/cpuinfo"):
    if line.startswith("flags"):
        flags = set(line.split(":", 1)[1].split())
        break
print(len(db["microarchitectures"]), len(flags))
`

// BenchmarkDetectProcess runs `tailor detect -o json` as a whole process
// beside the Python floor of archspec's detection, and reports CPU time
// and peak RSS of each.
func BenchmarkDetectProcess(b *testing.B) {
	e := setup(b)
	db := sharedtest.Path(b, "archspec", "microarchitectures.json")
	b.Run("tailor", func(b *testing.B) {
		runUsage(b, e.tailor, "detect", "-o", "json")
	})
	b.Run("archspec-floor", func(b *testing.B) {
		py, err := exec.LookPath("python3")
		if err != nil {
			b.Skip("no python3")
		}
		runUsage(b, py, "-c", archspecFloor, db)
	})
}

// runUsage runs argv b.N times and reports CPU time and peak RSS.
func runUsage(b *testing.B, argv ...string) {
	var cpu time.Duration
	var maxRSS int64
	for b.Loop() {
		out, c, rss, err := measure(argv...)
		if err != nil {
			b.Fatalf("%v: %v\n%s", argv, err, out)
		}
		cpu += c
		maxRSS = max(maxRSS, rss)
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N)/1000, "cpu-ms/op")
	b.ReportMetric(float64(maxRSS)/1024/1024, "maxrss-MiB")
}
