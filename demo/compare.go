package demo

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tailor-dev/tailor/internal/english"
)

// compare runs the binaries side by side, prints their times and results
// and the speedup of the tailored build: CPU time first (it holds still
// when other work shares the machine), wall time beside it.
func compare(ctx context.Context, w io.Writer, ts []*Timing, o Options, rep *Report) error {
	fmt.Fprintf(w, "running    forces %d %d, %s each, alternating (medians; CPU = user+sys, rusage)\n", o.Size, o.Steps, english.Count(o.Runs, "run", "runs"))
	if err := measure(ctx, ts, o); err != nil {
		return err
	}
	width := len("target")
	for _, t := range ts {
		width = max(width, len(t.Target))
	}
	row := "           %-9s %-*s %7s %7s  %-17s %s\n"
	fmt.Fprintf(w, row, "build", width, "target", "CPU", "wall", "energy", "checksum")
	for _, t := range ts {
		fmt.Fprintf(w, row, t.Label, width, t.Target, secs(t.MedianCPU), secs(t.MedianWall),
			fmt.Sprintf("%.9e", t.Energy), fmt.Sprintf("%.9e", t.Checksum))
	}
	for _, t := range ts {
		switch t.Label {
		case "generic":
			rep.Generic = t
		case "level":
			rep.Level = t
		case "tailored":
			rep.Tailored = t
		}
	}
	fmt.Fprintf(w, "agree      every build's energy and checksum within %g of the generic build's\n", Tolerance)
	g, tl := rep.Generic, rep.Tailored
	rep.Speedup, rep.WallSpeedup = ratio(g.MedianCPU, tl.MedianCPU), ratio(g.MedianWall, tl.MedianWall)
	line := fmt.Sprintf("speedup    %s vs generic: %.2fx CPU time (%.2fx wall)", tl.Target, rep.Speedup, rep.WallSpeedup)
	if lv := rep.Level; lv != nil {
		line += fmt.Sprintf("; vs %s: %.2fx (%.2fx wall)", lv.Target, ratio(lv.MedianCPU, tl.MedianCPU), ratio(lv.MedianWall, tl.MedianWall))
	}
	fmt.Fprintln(w, line)
	return nil
}

func ratio(a, b time.Duration) float64 { return a.Seconds() / b.Seconds() }

func secs(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
