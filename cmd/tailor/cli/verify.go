package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/detect"
	"github.com/tailor-dev/tailor/verify"
)

func init() { register(newVerifyCommand) }

type verifyOptions struct {
	registry   registryFlags
	output     string
	record     bool
	recordTo   string
	cmdline    string
	run        bool
	runTimeout time.Duration
	jobs       int
}

func newVerifyCommand() *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify REF",
		Short: "Check what each entry's code really needs against what it declares",
		Long: `verify streams the layers of every entry of the index REF names (a registry
reference or oci:DIR[:TAG]) and finds what its program really needs:

  - the x86 ISA level notes of the program, its dynamic linker and the
    libraries it loads (a glibc built for x86-64-v3 refuses older CPUs);
  - the ISA extensions of the program's own reachable code (glibc's
    run-time-selected variants, and code behind a CPU-feature check: Go's,
    __builtin_cpu_supports, OpenSSL's, Rust's, do not count);
  - a run of the entrypoint (or --cmd) under qemu-user with a real CPU
    model of the declared target (Conroe for x86_64, Nehalem, Haswell; qemu
    emulates up to AVX2), or on this host when it is the declared target;
    a SIGILL's instruction is decoded and named; a run that never started
    is no evidence;
  - CUDA fat binary architectures against dev.tailor.cuda.arch.

Each entry is ok, mislabeled (it needs more than it declares: the reason
names the feature or level) or unverified (the reason says why). Exit
status 1 when any entry is mislabeled.

--record writes what each entry really needs into the index
(dev.tailor.verified.* annotations on each entry, declarations unchanged)
and pushes it to REF's tag (or --record-to): from then on resolve, pull,
run and tailor serve never give a host an entry it cannot run, and
--explain says why.

A run executes the image's program on this machine: qemu-user is an
emulator, not a sandbox. Verify untrusted images in a disposable machine,
or with --run=false.`,
		Example: `  tailor verify localhost:5000/app:1
  tailor verify oci:./out:1.0 -o json
  tailor verify registry.example/app:1 --record
  tailor verify app:1 --cmd "/app/server --version"`,
		Args: cobra.ExactArgs(1),
		RunE: o.registry.bounded(func(cmd *cobra.Command, args []string) error { return runVerify(cmd, args[0], o) }),
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "text", "output format: text or json (an array, one object per entry in index order)")
	f.BoolVar(&o.record, "record", false, "record what each entry really needs in the index, pushed to REF's tag")
	f.StringVar(&o.recordTo, "record-to", "", "with --record: push the corrected index here (a tag, or oci:DIR[:TAG]) instead of REF")
	f.StringVar(&o.cmdline, "cmd", "", "run and analyse this command (split on spaces) instead of each entry's entrypoint and command")
	f.BoolVar(&o.run, "run", true, "run each entry's command under qemu-user with the declared CPU")
	f.DurationVar(&o.runTimeout, "run-timeout", verify.DefaultRunTimeout, "bound on each run; a program still running then did not die of SIGILL")
	f.IntVarP(&o.jobs, "jobs", "j", verify.DefaultJobs, "entries verified at once")
	o.registry.add(f)
	o.registry.boundTransfers(f, "bound on the whole command, layers included; 0: none")
	return cmd
}

func runVerify(cmd *cobra.Command, ref string, o *verifyOptions) error {
	if o.output != "text" && o.output != "json" {
		return usageError(fmt.Errorf("unknown output format %q (want text or json)", o.output))
	}
	if o.recordTo != "" && !o.record {
		return usageError(fmt.Errorf("--record-to needs --record"))
	}
	if o.runTimeout <= 0 || o.jobs < 1 {
		return usageError(fmt.Errorf("--run-timeout and --jobs must be positive"))
	}
	c, err := o.registry.client()
	if err != nil {
		return err
	}
	opts := []verify.Option{verify.WithRun(o.run), verify.WithRunTimeout(o.runTimeout), verify.WithJobs(o.jobs), verify.WithLogger(slog.Default())}
	if argv := strings.Fields(o.cmdline); len(argv) > 0 {
		opts = append(opts, verify.WithCommand(argv...))
	}
	if o.run {
		// The host runs entries declaring exactly its own target natively.
		if host, err := detect.Host(cmd.Context(), detect.WithLabelsFile(""), detect.WithLogger(slog.Default())); err == nil {
			opts = append(opts, verify.WithHost(host))
		} else {
			slog.Warn("detecting this host: no native runs", "err", err)
		}
	}
	verifyGC()
	rep, err := verify.Reference(cmd.Context(), c, ref, opts...)
	if err != nil {
		return registryError(err)
	}
	out := cmd.OutOrStdout()
	if o.output == "json" {
		err = writeJSON(out, rep.Results)
	} else {
		err = writeVerifyText(out, rep)
	}
	if err != nil {
		return err
	}
	if o.record {
		h, err := rep.Record(cmd.Context(), c, o.recordTo)
		if err != nil {
			return registryError(err)
		}
		dst := o.recordTo
		if dst == "" {
			dst = ref
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "recorded what each entry needs: %s (%s)\n", dst, h)
	}
	if n := countVerdict(rep, verify.Mislabeled); n > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("%d of %d entries of %s are mislabeled: they need more than they declare", n, len(rep.Results), ref)}
	}
	return nil
}

func countVerdict(rep *verify.Report, v verify.Verdict) int {
	n := 0
	for _, r := range rep.Results {
		if r.Verdict == v {
			n++
		}
	}
	return n
}

// writeVerifyText prints one row per entry, then each entry's reasons,
// and a summary with what was read.
func writeVerifyText(w io.Writer, rep *verify.Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tDIGEST\tPLATFORM\tDECLARED\tVERDICT\tNEEDS")
	var read int64
	for _, r := range rep.Results {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Index, shortHash(r.Digest.Hex), orDash(r.Platform), orDash(r.Declared), r.Verdict, orDash(r.Needs))
		read += r.Evidence.BytesRead
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rep.Results {
		for _, why := range r.Reasons {
			fmt.Fprintf(w, "#%d %s: %s\n", r.Index, r.Verdict, why)
		}
	}
	_, err := fmt.Fprintf(w, "%d ok, %d mislabeled, %d unverified; %.1f MB of layers read\n",
		countVerdict(rep, verify.OK), countVerdict(rep, verify.Mislabeled), countVerdict(rep, verify.Unverified), float64(read)/1e6)
	return err
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// verifyGC lets the heap of one verify grow to 5x what is live before a
// collection, within a soft limit of 1 GiB: streaming layers allocates
// fast while little stays live, and collecting (and preempting the
// decompressor for it) at the default pace cost about 6% of the CPU on a
// real Debian root (bench/README.md). GOGC or GOMEMLIMIT, when set, win.
func verifyGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}
}
