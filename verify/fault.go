package verify

import (
	"bufio"
	"context"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tailor-dev/tailor/verify/x86isa"
)

// A SIGILL names its instruction: decoding it says which extension the
// program needs, so a crash is evidence of a known need, never "needs
// unknown". The Go runtime catches SIGILL and prints the instruction's
// bytes itself; for any other program the run is repeated under qemu with
// -strace (which prints the signal's si_addr, and the files ld.so maps,
// with their addresses) and -d page (where qemu loaded the program and its
// dynamic linker), and the address is looked up in the image's files.

var (
	goPCRE    = regexp.MustCompile(`(?m)^PC=0x([0-9a-f]+)`)
	goBytesRE = regexp.MustCompile(`(?m)^instruction bytes:((?: 0x[0-9a-f]{1,2})+)`)
)

// goFault reads the Go runtime's SIGILL report: "PC=0x..." and
// "instruction bytes: 0x62 0xf1 ...".
func goFault(stderr string) *Fault {
	m := goBytesRE.FindStringSubmatch(stderr)
	if m == nil {
		return nil
	}
	var code []byte
	for _, f := range strings.Fields(m[1]) {
		v, err := strconv.ParseUint(strings.TrimPrefix(f, "0x"), 16, 8)
		if err != nil {
			return nil
		}
		code = append(code, byte(v))
	}
	var pc uint64
	if p := goPCRE.FindStringSubmatch(stderr); p != nil {
		pc, _ = strconv.ParseUint(p[1], 16, 64)
	}
	return decodeFault(&Fault{Address: pc, Detail: "the Go runtime's SIGILL report"}, code, pc)
}

// decodeFault decodes the instruction at the start of code into f.
func decodeFault(f *Fault, code []byte, pc uint64) *Fault {
	in, err := x86isa.Decode(code, pc)
	if err != nil {
		f.Bytes = hex.EncodeToString(code[:min(len(code), 15)])
		f.Detail += "; the bytes decode to no instruction: " + err.Error()
		return f
	}
	f.Bytes = hex.EncodeToString(code[:in.Len])
	f.Needs = in.Needs.Names()
	if strings.HasPrefix(f.Bytes, "0f01d0") || strings.HasPrefix(f.Bytes, "0f01d1") {
		// xgetbv, xsetbv: not counted in reachable code (run after a CPU
		// check by construction), but a fault on one names XSAVE.
		f.Needs = []string{"xsave"}
	}
	if len(f.Needs) == 0 {
		f.Detail += "; an instruction of no extension the decoder tells apart"
	}
	return f
}

// faultLogLimit bounds the qemu log read back (it lists every syscall).
const faultLogLimit = 256 << 20

// locateFault finds the instruction a run died on with SIGILL.
func (o *options) locateFault(ctx context.Context, plan runPlan, sb sandbox, argv []string, stderr string) *Fault {
	if f := goFault(stderr); f != nil {
		return f
	}
	if plan.emulator == "" {
		return &Fault{Detail: "a native run: the faulting address is not recorded"}
	}
	log, err := os.CreateTemp(o.tmpDir, "tailor-qemu-log-")
	if err != nil {
		return &Fault{Detail: "no log for a second run: " + err.Error()}
	}
	log.Close()
	defer os.Remove(log.Name())
	// argv is emulator, -L, root, -cpu, model, ...: insert the log flags.
	again := append([]string{argv[0], "-strace", "-d", "page", "-D", log.Name()}, argv[1:]...)
	ctx, cancel := context.WithTimeout(ctx, o.runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, again[0], again[1:]...)
	cmd.Env, cmd.Dir = sb.env, sb.root
	if d := filepath.Join(sb.root, filepath.FromSlash(sb.workdir)); sb.workdir != "" && isDir(d) {
		cmd.Dir = d
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	_ = cmd.Run() // it dies again; the log tells where
	lf, err := os.Open(log.Name())
	if err != nil {
		return &Fault{Detail: "reading qemu's log: " + err.Error()}
	}
	defer lf.Close()
	q, err := parseQemuLog(io.LimitReader(lf, faultLogLimit))
	if err != nil {
		return &Fault{Detail: "reading qemu's log: " + err.Error()}
	}
	if !q.sigill {
		return &Fault{Detail: "the second run, with -strace, did not die of SIGILL"}
	}
	return sb.faultAt(q)
}

// qemuLog is what a qemu -strace -d page log tells of a run.
type qemuLog struct {
	sigill            bool
	addr              uint64 // si_addr of the first SIGILL
	startCode, entry  uint64
	hasStart, hasEntr bool
	// maps are the files the program mapped with mmap, at the address of
	// their first mapping at file offset 0.
	maps []qemuMap
}

type qemuMap struct {
	path string
	base uint64
}

var (
	sigillRE  = regexp.MustCompile(`--- SIGILL \{.*si_addr=0x([0-9a-f]+)`)
	openRE    = regexp.MustCompile(`^\d+ open(?:at)?\((?:-?\d+,)?"([^"]*)",[^)]*\) = (\d+)`)
	mmapRE    = regexp.MustCompile(`^\d+ mmap\((?:NULL|0x[0-9a-f]+),\d+,[^,]*,[^,]*,(-?\d+),(0x[0-9a-f]+|\d+)\)`)
	resultRE  = regexp.MustCompile(`(?:^| )= 0x([0-9a-f]+)\s*$`)
	closeRE   = regexp.MustCompile(`^\d+ close\((\d+)\)`)
	startRE   = regexp.MustCompile(`^start_code\s+0x([0-9a-f]+)`)
	entryRE   = regexp.MustCompile(`^entry\s+0x([0-9a-f]+)`)
	maxLogMap = 4096
)

// parseQemuLog reads a qemu-user log written with -strace -d page. Lines
// are bounded (bufio.Scanner's buffer); an over-long line ends the read.
func parseQemuLog(r io.Reader) (*qemuLog, error) {
	q := &qemuLog{}
	fds := map[string]string{}
	mapped := map[string]bool{}
	pending := "" // the path of an mmap at offset 0 awaiting its result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if m := sigillRE.FindStringSubmatch(l); m != nil && !q.sigill {
			q.sigill = true
			q.addr, _ = strconv.ParseUint(m[1], 16, 64)
			continue
		}
		if m := startRE.FindStringSubmatch(l); m != nil && !q.hasStart {
			q.startCode, _ = strconv.ParseUint(m[1], 16, 64)
			q.hasStart = true
			continue
		}
		if m := entryRE.FindStringSubmatch(l); m != nil && !q.hasEntr {
			q.entry, _ = strconv.ParseUint(m[1], 16, 64)
			q.hasEntr = true
			continue
		}
		if m := openRE.FindStringSubmatch(l); m != nil {
			fds[m[2]] = m[1]
			continue
		}
		if m := closeRE.FindStringSubmatch(l); m != nil {
			delete(fds, m[1])
			continue
		}
		if m := mmapRE.FindStringSubmatch(l); m != nil {
			pending = ""
			if off, err := strconv.ParseUint(strings.TrimPrefix(m[2], "0x"), pick(strings.HasPrefix(m[2], "0x"), 16, 10), 64); err == nil && off == 0 {
				if p, ok := fds[m[1]]; ok && !mapped[p] {
					pending = p
				}
			}
			// -d page puts the result after the page table; without it the
			// result ends the line.
		}
		if pending != "" {
			if m := resultRE.FindStringSubmatch(l); m != nil {
				base, _ := strconv.ParseUint(m[1], 16, 64)
				if len(q.maps) < maxLogMap {
					q.maps = append(q.maps, qemuMap{pending, base})
				}
				mapped[pending], pending = true, ""
			}
		}
	}
	if err := sc.Err(); err != nil && len(q.maps) == 0 && !q.sigill {
		return nil, err
	}
	return q, nil
}

func pick(c bool, a, b int) int {
	if c {
		return a
	}
	return b
}

// faultAt finds the ELF file of the image q's SIGILL address falls in and
// decodes the instruction there.
func (sb sandbox) faultAt(q *qemuLog) *Fault {
	f := &Fault{Address: q.addr}
	type cand struct {
		imagePath, local string
		bias             func(*elf.File) (uint64, bool)
	}
	var cands []cand
	if sb.prog.file.local != "" && q.hasStart {
		cands = append(cands, cand{sb.prog.path, sb.prog.file.local, func(e *elf.File) (uint64, bool) {
			lo, ok := lowestExec(e)
			return q.startCode - lo, ok && q.startCode >= lo
		}})
	}
	if sb.interp != "" && q.hasEntr {
		if p, local, ok := sb.files(sb.interp); ok {
			cands = append(cands, cand{p, local, func(e *elf.File) (uint64, bool) { return q.entry - e.Entry, q.entry >= e.Entry }})
		}
	}
	for _, m := range q.maps {
		guest := m.path
		if rest, ok := strings.CutPrefix(guest, sb.root); ok {
			guest = rest // qemu -L printed the host path
		}
		if p, local, ok := sb.files(guest); ok {
			base := m.base
			cands = append(cands, cand{p, local, func(e *elf.File) (uint64, bool) {
				lo, ok := lowestLoad(e)
				return base - lo, ok && base >= lo
			}})
		}
	}
	for _, c := range cands {
		e, err := elf.Open(c.local)
		if err != nil {
			continue
		}
		bias, ok := c.bias(e)
		if !ok || q.addr < bias {
			e.Close()
			continue
		}
		vaddr := q.addr - bias
		code, ok := execBytes(e, vaddr, 15)
		e.Close()
		if !ok {
			continue
		}
		f.File, f.Offset = c.imagePath, vaddr
		f.Detail = "found with qemu -strace (si_addr) in " + c.imagePath
		return decodeFault(f, code, vaddr)
	}
	f.Detail = fmt.Sprintf("the SIGILL at %#x is in none of the image's files qemu's log names", q.addr)
	return f
}

// lowestExec is the lowest virtual address of e's executable segments.
func lowestExec(e *elf.File) (uint64, bool) {
	lo, ok := ^uint64(0), false
	for _, p := range e.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 && p.Vaddr < lo {
			lo, ok = p.Vaddr, true
		}
	}
	return lo, ok
}

// lowestLoad is the page-aligned address of e's first loadable segment
// (where ld.so's first mmap of it lands, less the load bias).
func lowestLoad(e *elf.File) (uint64, bool) {
	for _, p := range e.Progs {
		if p.Type == elf.PT_LOAD {
			return p.Vaddr &^ 0xfff, true
		}
	}
	return 0, false
}

// execBytes reads up to n bytes at vaddr of an executable segment of e.
func execBytes(e *elf.File, vaddr uint64, n int) ([]byte, bool) {
	for _, p := range e.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_X == 0 || vaddr < p.Vaddr || vaddr >= p.Vaddr+p.Filesz {
			continue
		}
		k := min(uint64(n), p.Vaddr+p.Filesz-vaddr)
		buf := make([]byte, k)
		if _, err := p.ReadAt(buf, int64(vaddr-p.Vaddr)); err != nil {
			return nil, false
		}
		return buf, true
	}
	return nil, false
}
