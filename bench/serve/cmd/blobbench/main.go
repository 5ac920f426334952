// Command blobbench is the client of the multi-process blob benchmark
// (bench/serve/procs.sh): it pushes a pseudo-random blob to an upstream
// registry, then GETs it in turn from each target (direct, through tailor
// serve, through distribution's proxy), several rounds, and prints the
// median throughput of each and the CPU time the processes named by -pid
// spent per GiB, sampled from /proc.
package main

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tailor-dev/tailor/internal/registrytest"
)

type pairs []string

func (p *pairs) String() string     { return strings.Join(*p, ",") }
func (p *pairs) Set(s string) error { *p = append(*p, s); return nil }

func main() {
	var targets, pids pairs
	upstream := flag.String("upstream", "", "host:port of the registry to push the blob to (required)")
	repo := flag.String("repo", "bench/big", "repository of the blob")
	mb := flag.Int("mb", 1024, "blob size in MiB")
	reps := flag.Int("reps", 5, "rounds; each GETs the blob once from every target")
	flag.Var(&targets, "target", "NAME=http://host:port to GET the blob from (repeatable; the first is the reference)")
	flag.Var(&pids, "pid", "NAME=PID of a process whose CPU time to report (repeatable)")
	flag.Parse()
	if err := run(*upstream, *repo, int64(*mb)<<20, *reps, targets, pids); err != nil {
		fmt.Fprintln(os.Stderr, "blobbench:", err)
		os.Exit(1)
	}
}

type named struct{ name, value string }

func split(ps []string) ([]named, error) {
	var out []named
	for _, p := range ps {
		n, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want NAME=VALUE", p)
		}
		out = append(out, named{n, v})
	}
	return out, nil
}

func run(upstream, repo string, size int64, reps int, targetArgs, pidArgs []string) error {
	targets, err := split(targetArgs)
	if err != nil || len(targets) == 0 {
		return fmt.Errorf("targets: %v (want at least one -target)", err)
	}
	procs, err := split(pidArgs)
	if err != nil {
		return err
	}
	dg, err := push(upstream, repo, size)
	if err != nil {
		return err
	}
	fmt.Printf("blob %s, %d MiB; sha256 alone on this CPU: %.0f MB/s\n", dg, size>>20, shaSpeed())
	for _, t := range targets { // warm up: page cache, connections, the proxy's cold fill
		mbps, err := get(t.value+"/v2/"+repo+"/blobs/"+dg, size)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		fmt.Printf("warm-up %-20s %7.0f MB/s\n", t.name, mbps)
	}
	speed := map[string][]float64{}
	cpu := map[string]map[string][]float64{} // target -> process -> s/GiB
	for r := 0; r < reps; r++ {
		for _, t := range targets {
			before := cpuTimes(procs)
			mbps, err := get(t.value+"/v2/"+repo+"/blobs/"+dg, size)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			after := cpuTimes(procs)
			speed[t.name] = append(speed[t.name], mbps)
			if cpu[t.name] == nil {
				cpu[t.name] = map[string][]float64{}
			}
			gib := float64(size) / (1 << 30)
			for p := range after {
				cpu[t.name][p] = append(cpu[t.name][p], (after[p]-before[p])/gib)
			}
		}
	}
	report(targets, procs, speed, cpu)
	for _, p := range procs {
		if p.name == "client" {
			continue
		}
		fmt.Printf("peak RSS %-10s %s\n", p.name, peakRSS(p.value))
	}
	return nil
}

func report(targets, procs []named, speed map[string][]float64, cpu map[string]map[string][]float64) {
	ref := median(speed[targets[0].name])
	fmt.Printf("\n%-20s %8s %8s %8s %7s", "target", "median", "min", "max", "ratio")
	for _, p := range procs {
		fmt.Printf("  cpu:%-8s", p.name)
	}
	fmt.Printf("\n%-20s %8s %8s %8s %7s", "", "MB/s", "MB/s", "MB/s", "")
	for range procs {
		fmt.Printf("  %-12s", "s/GiB")
	}
	fmt.Println()
	for _, t := range targets {
		s := speed[t.name]
		fmt.Printf("%-20s %8.0f %8.0f %8.0f %7.2f", t.name, median(s), slices.Min(s), slices.Max(s), median(s)/ref)
		for _, p := range procs {
			fmt.Printf("  %-12.2f", median(cpu[t.name][p.name]))
		}
		fmt.Println()
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// cpuTimes reads utime+stime (seconds) of each process; "client" is this one.
func cpuTimes(procs []named) map[string]float64 {
	out := map[string]float64{}
	for _, p := range procs {
		if p.name == "client" {
			var ru syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			out[p.name] = tv(ru.Utime) + tv(ru.Stime)
			continue
		}
		data, err := os.ReadFile("/proc/" + p.value + "/stat")
		if err != nil {
			continue
		}
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		out[p.name] = (ut + st) / 100 // USER_HZ
	}
	return out
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

func peakRSS(pid string) string {
	data, _ := os.ReadFile("/proc/" + pid + "/status")
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "?"
}

func stream(size int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{'t', 'a', 'i', 'l', 'o', 'r'}), size)
}

// shaSpeed is how fast one core hashes with sha256 (MB/s): the ceiling
// of a single digest-checked stream.
func shaSpeed() float64 {
	buf := make([]byte, 256<<10)
	h := sha256.New()
	start := time.Now()
	for range 2048 { // 512 MiB
		h.Write(buf)
	}
	return 2048 * float64(len(buf)) / 1e6 / time.Since(start).Seconds()
}

// push uploads the blob monolithically unless the registry has it.
func push(host, repo string, size int64) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, stream(size)); err != nil {
		return "", err
	}
	dg := fmt.Sprintf("sha256:%x", h.Sum(nil))
	if resp, err := http.Head("http://" + host + "/v2/" + repo + "/blobs/" + dg); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return dg, nil
		}
	}
	return dg, registrytest.PushBlob(context.Background(), host, repo, stream(size), size, dg)
}

// get downloads url to nowhere and returns MB/s (10^6 bytes).
func get(url string, size int64) (float64, error) {
	start := time.Now()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return 0, err
	}
	if n != size {
		return 0, fmt.Errorf("GET %s: %d bytes, want %d", url, n, size)
	}
	return float64(n) / 1e6 / time.Since(start).Seconds(), nil
}
