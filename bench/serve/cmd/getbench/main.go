// Command getbench is the client of bench/serve/answers.sh: it GETs a
// URL from several servers in turn, rounds interleaved, and reports the
// CPU time each server process spent (from /proc/PID/stat) per request or
// per GiB, beside the client's throughput and latency.
//
//	getbench -mode manifest -c 64 -n 20000 -target 'NAME=PID=URL[|Header: value]' ...
//	getbench -mode ranges -ranges 8 -size BYTES -target 'NAME=PID=URL' ...
//	getbench -mode push -size BYTES -file PATH -push HOST:PORT/REPO ...
//
// In manifest mode each of -c clients GETs the URL n/c times per round;
// in ranges mode the blob (-size bytes) is fetched as -ranges parallel
// Range requests, -n times per round. The first target is the reference
// of the ratios.
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
	"sync"
	"time"

	"github.com/tailor-dev/tailor/internal/registrytest"
)

type targets []string

func (t *targets) String() string     { return strings.Join(*t, ",") }
func (t *targets) Set(s string) error { *t = append(*t, s); return nil }

type target struct {
	name, pid, url string
	header         http.Header
	cpu            []float64 // server CPU seconds per round
	wall           []float64
	lat            []time.Duration
}

func main() {
	mode := flag.String("mode", "manifest", "manifest or ranges")
	c := flag.Int("c", 64, "concurrent clients (manifest mode)")
	n := flag.Int("n", 20000, "requests per round (manifest mode) or blob fetches per round (ranges mode)")
	ranges := flag.Int("ranges", 8, "parallel ranges per blob fetch (ranges mode)")
	size := flag.Int64("size", 0, "blob size in bytes (ranges mode)")
	rounds := flag.Int("rounds", 5, "rounds; each runs every target once")
	var ts, hosts targets
	flag.Var(&ts, "target", "NAME=PID=URL[|Header: value] (repeatable)")
	flag.Var(&hosts, "push", "push mode: host:port/repo to upload the blob to (repeatable)")
	file := flag.String("file", "", "push mode: also write the blob to this file")
	flag.Parse()
	if *mode == "push" {
		dg, err := pushBlob(*size, *file, hosts)
		if err != nil {
			fail(err)
		}
		fmt.Println(dg)
		return
	}
	var list []*target
	for _, s := range ts {
		parts := strings.SplitN(s, "=", 3)
		if len(parts) != 3 {
			fail(fmt.Errorf("target %q: want NAME=PID=URL", s))
		}
		t := &target{name: parts[0], pid: parts[1], header: http.Header{}}
		url, hdrs, _ := strings.Cut(parts[2], "|")
		t.url = url
		if hdrs != "" {
			k, v, _ := strings.Cut(hdrs, ":")
			t.header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		}
		list = append(list, t)
	}
	if len(list) == 0 || (*mode == "ranges" && *size <= 0) {
		fail(fmt.Errorf("want targets (and -size in ranges mode)"))
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: max(*c, *ranges) * 2, DisableCompression: true}}
	for r := 0; r <= *rounds; r++ { // round 0 warms up
		for _, t := range list {
			before := cpuSeconds(t.pid)
			start := time.Now()
			var lat []time.Duration
			var err error
			if *mode == "ranges" {
				err = fetchRanges(client, t, *n, *ranges, *size)
			} else {
				lat, err = manifests(client, t, *c, *n)
			}
			if err != nil {
				fail(fmt.Errorf("%s: %w", t.name, err))
			}
			if r > 0 {
				t.cpu = append(t.cpu, cpuSeconds(t.pid)-before)
				t.wall = append(t.wall, time.Since(start).Seconds())
				t.lat = append(t.lat, lat...)
			}
		}
	}
	ref := list[0]
	if *mode == "ranges" {
		gib := float64(*size) * float64(*n) / (1 << 30)
		fmt.Printf("%-24s %14s %10s %10s\n", "server", "CPU s/GiB", "MB/s", "CPU x")
		for _, t := range list {
			fmt.Printf("%-24s %14.3f %10.0f %10.2f\n", t.name, median(t.cpu)/gib, gib*(1<<30)/1e6/median(t.wall), median(t.cpu)/median(ref.cpu))
		}
		fmt.Printf("(medians of %d rounds of %d fetches of %d bytes, %d parallel ranges each; ratios to %s)\n", *rounds, *n, *size, *ranges, ref.name)
		return
	}
	fmt.Printf("%-24s %14s %10s %10s %10s %10s\n", "server", "CPU us/req", "req/s", "p50 us", "p99 us", "CPU x")
	for _, t := range list {
		slices.Sort(t.lat)
		fmt.Printf("%-24s %14.1f %10.0f %10.0f %10.0f %10.2f\n", t.name, median(t.cpu)/float64(*n)*1e6, float64(*n)/median(t.wall),
			float64(t.lat[len(t.lat)/2].Microseconds()), float64(t.lat[len(t.lat)*99/100].Microseconds()), median(t.cpu)/median(ref.cpu))
	}
	fmt.Printf("(medians of %d rounds of %d GETs by %d concurrent clients; CPU: the server process's user+sys; ratios to %s)\n", *rounds, *n, *c, ref.name)
}

func manifests(client *http.Client, t *target, c, n int) ([]time.Duration, error) {
	lat := make([]time.Duration, n)
	errs := make(chan error, c)
	var wg sync.WaitGroup
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += c {
				start := time.Now()
				if err := get(client, t, "", -1); err != nil {
					errs <- err
					return
				}
				lat[i] = time.Since(start)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return lat, <-errs
}

func fetchRanges(client *http.Client, t *target, n, ranges int, size int64) error {
	part := (size + int64(ranges) - 1) / int64(ranges)
	for range n {
		errs := make(chan error, ranges)
		for i := range ranges {
			from := int64(i) * part
			to := min(from+part, size) - 1
			go func() { errs <- get(client, t, fmt.Sprintf("bytes=%d-%d", from, to), to-from+1) }()
		}
		for range ranges {
			if err := <-errs; err != nil {
				return err
			}
		}
	}
	return nil
}

func get(client *http.Client, t *target, rng string, want int64) error {
	req, err := http.NewRequest(http.MethodGet, t.url, nil)
	if err != nil {
		return err
	}
	for k, v := range t.header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json")
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return err
	}
	if rng != "" && (resp.StatusCode != http.StatusPartialContent || got != want) {
		return fmt.Errorf("range %s: %s, %d bytes", rng, resp.Status, got)
	}
	if rng == "" && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", t.url, resp.Status)
	}
	return nil
}

// stream is the blob: size pseudo-random (incompressible) bytes, the
// same every time.
func stream(size int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{'t', 'a', 'i', 'l', 'o', 'r'}), size)
}

// pushBlob writes the blob to file (if any) and uploads it to every
// host/repo, and returns its digest.
func pushBlob(size int64, file string, hosts []string) (string, error) {
	h := sha256.New()
	var w io.Writer = h
	if file != "" {
		f, err := os.Create(file)
		if err != nil {
			return "", err
		}
		defer f.Close()
		w = io.MultiWriter(h, f)
	}
	if _, err := io.Copy(w, stream(size)); err != nil {
		return "", err
	}
	dg := fmt.Sprintf("sha256:%x", h.Sum(nil))
	for _, hr := range hosts {
		host, repo, _ := strings.Cut(hr, "/")
		if err := registrytest.PushBlob(context.Background(), host, repo, stream(size), size, dg); err != nil {
			return "", fmt.Errorf("push to %s: %w", hr, err)
		}
	}
	return dg, nil
}

// cpuSeconds is the user+sys time of process pid, from /proc/pid/stat.
func cpuSeconds(pid string) float64 {
	data, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		fail(fmt.Errorf("process %s: %w", pid, err))
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(fields[11], 64)
	st, _ := strconv.ParseFloat(fields[12], 64)
	return (ut + st) / 100 // USER_HZ
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "getbench:", err)
	os.Exit(1)
}
