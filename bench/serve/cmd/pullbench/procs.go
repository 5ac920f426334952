package main

import (
	"bufio"
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
)

// proc is a server process of the benchmark.
type proc struct {
	name string
	addr string
	cmd  *exec.Cmd
}

// startRegistry runs the distribution registry binary: the upstream, or
// with proxy distribution's pull-through cache of it.
func startRegistry(name, bin, dir, proxy string) (*proc, error) {
	addrFile := filepath.Join(dir, "addr")
	args := []string{"-dir", filepath.Join(dir, "data"), "-addr-file", addrFile}
	if proxy != "" {
		args = append(args, "-proxy", proxy)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	for range 200 {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			return &proc{name: name, addr: strings.TrimSpace(string(b)), cmd: cmd}, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return nil, fmt.Errorf("%s did not start", name)
}

var addrRE = regexp.MustCompile(`tailor serve listening" addr=([0-9.:]+)`)

// startTailor runs `tailor serve` in front of upstream with empty storage.
func startTailor(name, bin, dir, upstream string, extra []string) (*proc, error) {
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--storage", dir, "--profile", "cpu=haswell",
		"--upstream", "up=http://" + upstream, "--log-format", "text"}, extra...)
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
			go func() { _, _ = io.Copy(io.Discard, stderr) }()
			return &proc{name: name, addr: m[1], cmd: cmd}, nil
		}
	}
	_ = cmd.Process.Kill()
	return nil, fmt.Errorf("%s did not start", name)
}

// stop ends p (SIGTERM, then waits) and returns its CPU seconds and peak
// RSS (KiB) from rusage.
func (p *proc) stop() (float64, int64) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0
	}
	return tv(ru.Utime) + tv(ru.Stime), ru.Maxrss
}

// cpu is p's CPU seconds so far (utime+stime from /proc); the client's
// own for nil.
func (p *proc) cpu() float64 {
	if p == nil {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return tv(ru.Utime) + tv(ru.Stime)
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

// rss is p's resident set now, in MiB.
func (p *proc) rss() float64 {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/status")
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
