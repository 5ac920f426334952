// Command pullbench measures image pulls and manifest requests through
// `tailor serve` against the registry it fronts (direct) and against
// distribution's own pull-through proxy, every server its own process, in
// one run (bench/serve/pull.sh builds and runs it):
//
//   - pulls of an image (config + -layers layers of -layer-mb MiB, 4 at a
//     time, as containerd does): direct; cold through a fresh tailor serve
//     and a fresh distribution proxy (empty storage each round, their order
//     alternating); again through both (the repeat pull, from their
//     caches); CPU seconds of each process per pull from /proc;
//   - the manifest by tag, -manifests sequential GETs per target,
//     interleaved: p50 and p99;
//   - -clients concurrent clients each GETting the manifest by tag -each
//     times through tailor serve: errors, p50, p99.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type opts struct {
	tailor, registry, work string
	layers, layerMB        int
	rounds, manifests      int
	clients, each          int
	tailorArgs             []string
}

func main() {
	var o opts
	var extra string
	flag.StringVar(&o.tailor, "tailor", "", "tailor binary (required)")
	flag.StringVar(&o.registry, "registry", "", "bench/serve/cmd/registry binary (required)")
	flag.StringVar(&o.work, "work", "", "scratch directory (required)")
	flag.IntVar(&o.layers, "layers", 4, "layers of the image pulled")
	flag.IntVar(&o.layerMB, "layer-mb", 64, "MiB per layer")
	flag.IntVar(&o.rounds, "rounds", 5, "pull rounds (fresh servers each)")
	flag.IntVar(&o.manifests, "manifests", 2000, "sequential manifest GETs per target")
	flag.IntVar(&o.clients, "clients", 1000, "concurrent manifest clients")
	flag.IntVar(&o.each, "each", 5, "manifest GETs per concurrent client")
	flag.StringVar(&extra, "tailor-args", "", "extra tailor serve arguments, space-separated")
	flag.Parse()
	o.tailorArgs = strings.Fields(extra)
	if o.tailor == "" || o.registry == "" || o.work == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "pullbench:", err)
		os.Exit(1)
	}
}

// sample is one pull: wall seconds and CPU seconds per process.
type sample struct {
	wall float64
	cpu  map[string]float64
}

type results map[string][]sample

// timed runs pull on base and records it under kind, with the CPU each of
// procs spent (the client is "client").
func (r results) timed(kind, base string, procs ...*proc) error {
	before := map[string]float64{"client": (*proc)(nil).cpu()}
	for _, p := range procs {
		before[p.name] = p.cpu()
	}
	start := time.Now()
	n, err := pull(base, "bench/app", "v1")
	if err != nil {
		return fmt.Errorf("%s pull: %w", kind, err)
	}
	s := sample{wall: time.Since(start).Seconds(), cpu: map[string]float64{"client": (*proc)(nil).cpu() - before["client"]}}
	for _, p := range procs {
		s.cpu[p.name] = p.cpu() - before[p.name]
	}
	r[kind] = append(r[kind], s)
	fmt.Printf("  %-24s %6.2f s  %6.0f MB/s\n", kind, s.wall, float64(n)/1e6/s.wall)
	return nil
}

func run(o opts) error {
	up, err := startRegistry("upstream", o.registry, filepath.Join(o.work, "up"), "")
	if err != nil {
		return err
	}
	defer up.stop()
	if err := pushIndex(up.addr, "bench/app", "v1", o.layers, int64(o.layerMB)<<20); err != nil {
		return err
	}
	fmt.Printf("image: %d layers of %d MiB at %s/bench/app:v1\n", o.layers, o.layerMB, up.addr)
	direct := "http://" + up.addr
	if _, err := pull(direct, "bench/app", "v1"); err != nil { // page cache, connections
		return err
	}
	res := results{}
	var tailor, proxy, nocache *proc
	for r := range o.rounds {
		fmt.Printf("round %d\n", r+1)
		if tailor, err = startTailor("serve", o.tailor, filepath.Join(o.work, fmt.Sprintf("serve%d", r)), up.addr, o.tailorArgs); err != nil {
			return err
		}
		if proxy, err = startRegistry("proxy", o.registry, filepath.Join(o.work, fmt.Sprintf("proxy%d", r)), direct); err != nil {
			return err
		}
		if nocache, err = startTailor("serve", o.tailor, filepath.Join(o.work, fmt.Sprintf("nocache%d", r)), up.addr,
			append(o.tailorArgs, "--cache-size", "0")); err != nil {
			return err
		}
		type step struct {
			kind string
			p    *proc
		}
		steps := []step{{"cold tailor serve", tailor}, {"cold distribution proxy", proxy}}
		if r%2 == 1 {
			steps[0], steps[1] = steps[1], steps[0]
		}
		steps = append(steps, step{"repeat tailor serve", tailor}, step{"repeat distribution proxy", proxy},
			step{"tailor serve, no cache", nocache})
		if err := res.timed("direct", direct, up); err != nil {
			return err
		}
		for _, s := range steps {
			if err := res.timed(s.kind, "http://"+s.p.addr, up, s.p); err != nil {
				return err
			}
		}
		if err := res.timed("direct", direct, up); err != nil {
			return err
		}
		nocache.stop()
		if r < o.rounds-1 {
			tailor.stop()
			proxy.stop()
		}
	}
	defer tailor.stop()
	defer proxy.stop()
	reportPulls(res, o)
	return manifestPhases(o, up, tailor, proxy)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func reportPulls(res results, o opts) {
	mb := float64(o.layers*o.layerMB) * (1 << 20) / 1e6
	fmt.Printf("\npulls of %.0f MB, median of %d (wall s; CPU s per pull: client, upstream, the server pulled through)\n", mb, o.rounds)
	fmt.Printf("%-26s %8s %8s %8s %8s %8s\n", "", "wall s", "MB/s", "cpu cli", "cpu up", "cpu srv")
	walls := map[string]float64{}
	for _, k := range []string{"direct", "cold tailor serve", "cold distribution proxy", "repeat tailor serve", "repeat distribution proxy", "tailor serve, no cache"} {
		var w, cc, cu, cs []float64
		for _, s := range res[k] {
			w, cc, cu = append(w, s.wall), append(cc, s.cpu["client"]), append(cu, s.cpu["upstream"])
			cs = append(cs, s.cpu["serve"]+s.cpu["proxy"])
		}
		walls[k] = median(w)
		fmt.Printf("%-26s %8.2f %8.0f %8.2f %8.2f %8.2f\n", k, median(w), mb/median(w), median(cc), median(cu), median(cs))
	}
	fmt.Printf("repeat pull through tailor serve: %.2fx direct's throughput (target >= 0.9)\n", walls["direct"]/walls["repeat tailor serve"])
	fmt.Printf("cold pull through tailor serve: %.2fx distribution proxy's throughput (target >= 2)\n", walls["cold distribution proxy"]/walls["cold tailor serve"])
	fmt.Printf("repeat pull through distribution proxy: %.2fx direct's\n", walls["direct"]/walls["repeat distribution proxy"])
}

func manifestPhases(o opts, up, tailor, proxy *proc) error {
	ttl0, err := startTailor("serve-ttl0", o.tailor, filepath.Join(o.work, "serve-ttl0"), up.addr, append(o.tailorArgs, "--tag-ttl", "0"))
	if err != nil {
		return err
	}
	defer ttl0.stop()
	targets := []struct{ name, url string }{
		{"direct", "http://" + up.addr},
		{"tailor serve", "http://" + tailor.addr},
		{"tailor serve --tag-ttl 0", "http://" + ttl0.addr},
		{"distribution proxy", "http://" + proxy.addr},
	}
	lat := map[string][]time.Duration{}
	for _, t := range targets { // warm
		if _, err := latencies(t.url+"/v2/bench/app/manifests/v1", 20); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	for i := 0; i < o.manifests; i += 100 {
		for _, t := range targets {
			l, err := latencies(t.url+"/v2/bench/app/manifests/v1", 100)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			lat[t.name] = append(lat[t.name], l...)
		}
	}
	fmt.Printf("\nmanifest by tag, %d sequential GETs each (interleaved by 100)\n", o.manifests)
	ref := pct(lat["direct"], 50)
	for _, t := range targets {
		p50 := pct(lat[t.name], 50)
		fmt.Printf("%-26s p50 %8s  p99 %8s  p50 ratio to direct %.2f\n", t.name, p50.Round(time.Microsecond), pct(lat[t.name], 99).Round(time.Microsecond), float64(p50)/float64(ref))
	}
	fmt.Printf("\n%d concurrent clients x %d manifest GETs by tag\n", o.clients, o.each)
	for _, t := range targets[:2] {
		cpu0 := tailor.cpu()
		start := time.Now()
		l, errs, first := concurrent(t.url+"/v2/bench/app/manifests/v1", o.clients, o.each)
		wall := time.Since(start)
		fmt.Printf("%-26s errors %d  p50 %8s  p99 %8s  max %8s  wall %s", t.name, errs, pct(l, 50).Round(time.Microsecond),
			pct(l, 99).Round(time.Microsecond), pct(l, 100).Round(time.Microsecond), wall.Round(time.Millisecond))
		if t.name == "tailor serve" {
			fmt.Printf("  serve cpu %.2f s  rss %.0f MiB", tailor.cpu()-cpu0, tailor.rss())
		}
		if first != nil {
			fmt.Printf("  first error: %v", first)
		}
		fmt.Println()
		if errs > 0 {
			return fmt.Errorf("%s: %d of %d concurrent manifest requests failed", t.name, errs, o.clients*o.each)
		}
	}
	return nil
}
