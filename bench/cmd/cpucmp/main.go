// Command cpucmp runs whole commands side by side, interleaved round by
// round, and prints for each the median CPU time (user+sys, from the
// child's rusage, microsecond resolution: /usr/bin/time rounds to 10 ms),
// wall time and peak RSS, and the ratio of its median CPU and wall time
// to the first command's. Each command's output must contain its
// expected text (-want NAME=TEXT), so a failing command is not timed.
//
//	cpucmp -runs 21 'regctl=regctl image digest --platform linux/amd64 ocidir://D:1' 'tailor=tailor resolve oci:D:1 --profile cpu=zen4'
//
// Arguments are split on spaces (no quoting).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

type pairs []string

func (p *pairs) String() string     { return strings.Join(*p, ",") }
func (p *pairs) Set(s string) error { *p = append(*p, s); return nil }

type command struct {
	name string
	argv []string
	want string
	cpu  []time.Duration
	wall []time.Duration
	rss  []int64
}

func main() {
	runs := flag.Int("runs", 21, "rounds; each runs every command once")
	warm := flag.Int("warmup", 2, "rounds run first and not counted")
	var wants pairs
	flag.Var(&wants, "want", "NAME=TEXT its output must contain (repeatable)")
	flag.Parse()
	var cmds []*command
	for _, a := range flag.Args() {
		n, line, ok := strings.Cut(a, "=")
		if !ok || strings.TrimSpace(line) == "" {
			fmt.Fprintf(os.Stderr, "cpucmp: %q: want NAME=COMMAND LINE\n", a)
			os.Exit(2)
		}
		cmds = append(cmds, &command{name: n, argv: strings.Fields(line)})
	}
	for _, w := range wants {
		n, text, _ := strings.Cut(w, "=")
		for _, c := range cmds {
			if c.name == n {
				c.want = text
			}
		}
	}
	if len(cmds) == 0 {
		fmt.Fprintln(os.Stderr, "cpucmp: no commands")
		os.Exit(2)
	}
	for r := 0; r < *warm+*runs; r++ {
		for _, c := range cmds {
			cpu, wall, rss, err := run(c)
			if err != nil {
				fmt.Fprintf(os.Stderr, "cpucmp: %s: %v\n", c.name, err)
				os.Exit(1)
			}
			if r >= *warm {
				c.cpu, c.wall, c.rss = append(c.cpu, cpu), append(c.wall, wall), append(c.rss, rss)
			}
		}
	}
	fmt.Printf("%-28s %10s %10s %10s %8s %8s\n", "command", "CPU ms", "wall ms", "RSS MiB", "CPU x", "wall x")
	ref := cmds[0]
	for _, c := range cmds {
		fmt.Printf("%-28s %10.2f %10.2f %10.1f %8.2f %8.2f\n", c.name, ms(median(c.cpu)), ms(median(c.wall)),
			float64(slices.Max(c.rss))/1024, ms(median(c.cpu))/ms(median(ref.cpu)), ms(median(c.wall))/ms(median(ref.wall)))
	}
	fmt.Printf("(medians of %d interleaved runs; RSS the peak; ratios to %s)\n", *runs, ref.name)
}

func run(c *command) (cpu, wall time.Duration, rss int64, err error) {
	cmd := exec.Command(c.argv[0], c.argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, 0, fmt.Errorf("%v\n%s", err, out.Bytes())
	}
	wall = time.Since(start)
	if c.want != "" && !strings.Contains(out.String(), c.want) {
		return 0, 0, 0, fmt.Errorf("output lacks %q:\n%s", c.want, out.Bytes())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpu, wall, ru.Maxrss, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
