package trust

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/tailor-dev/tailor/internal/tooltest"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/verify"
)

// CasesEnv names the directory build.sh wrote the case set to.
const CasesEnv = "TAILOR_TRUST_CASES"

// The thresholds of issue 15: of the builds that run under their declared
// CPU, at most maxFalseMislabeled called mislabeled; of those that crash,
// at most maxFalseOK called ok; at most maxUnverified unverified overall.
const (
	maxFalseMislabeled = 1
	maxFalseOK         = 2
	maxUnverified      = 6
)

// trustCase is one line of cases.jsonl.
type trustCase struct {
	Name   string   `json:"name"`
	Root   string   `json:"root"`
	Target string   `json:"target"`
	Argv   []string `json:"argv"`
	Truth  []string `json:"truth"` // the ELF command the case really starts, when Argv is a script
}

// truthModels are the qemu CPU models a declared target's truth is run
// under: the lowest real CPU of each level. x86_64_v4 has no TCG model: it
// runs natively on a host that has AVX-512 F/BW/CD/DQ/VL.
var truthModels = map[string]string{
	"x86_64":    "Conroe",
	"x86_64_v2": "Nehalem",
	"nehalem":   "Nehalem",
	"x86_64_v3": "Haswell",
	"haswell":   "Haswell",
	"x86_64_v4": "native",
}

// outcome is what a case really does under its declared CPU.
type outcome string

const (
	runs    outcome = "runs"
	crashes outcome = "crashes"
	// excluded: no way to establish the truth on this host (said, and
	// not counted).
	excluded outcome = "excluded"
)

// TestTrust builds an OCI layout of every case (its root as one layer, the
// declared target as the index entry's annotation), establishes its truth by
// running it under the qemu CPU model of the declared target, verifies it
// as `tailor verify` does, and counts false verdicts against issue 15's
// thresholds.
func TestTrust(t *testing.T) {
	dir := os.Getenv(CasesEnv)
	if dir == "" {
		if tooltest.Required("trust") {
			t.Fatalf("%s is unset: run test/trust/build.sh DIR and set it to DIR", CasesEnv)
		}
		t.Skipf("%s is unset (CI runs test/trust/build.sh and sets it)", CasesEnv)
	}
	qemu := tooltest.Path(t, "qemu-x86_64")
	cases := readCases(t, filepath.Join(dir, "cases.jsonl"))
	ctx := context.Background()

	lay := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(lay, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	layers := map[string]v1.Layer{}
	for _, c := range cases {
		if layers[c.Root] == nil {
			layers[c.Root] = packRoot(t, filepath.Join(dir, "roots", c.Root))
		}
	}
	for i, c := range cases {
		idx := caseIndex(t, c, layers[c.Root])
		if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{remote.AnnotationRefName: tag(i)})); err != nil {
			t.Fatal(err)
		}
	}

	truths := make([]outcome, len(cases))
	details := make([]string, len(cases))
	verdicts := make([]*verify.Result, len(cases))
	verrs := make([]error, len(cases))
	client, err := remote.New()
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			truths[i], details[i] = truth(ctx, qemu, filepath.Join(dir, "roots", c.Root), c)
			rep, err := verify.Reference(ctx, client, "oci:"+lay+":"+tag(i), verify.WithRunTimeout(60*time.Second), verify.WithJobs(1))
			if err != nil {
				verrs[i] = err
				return
			}
			verdicts[i] = rep.Results[0]
		}()
	}
	wg.Wait()

	var correct, crashing, falseMis, falseOK, unverified, broken, nExcluded int
	var table strings.Builder
	fmt.Fprintf(&table, "%-34s %-8s %-11s %s\n", "case", "truth", "verdict", "first reason")
	for i, c := range cases {
		verdict, reason := "error", ""
		if verrs[i] != nil {
			reason = verrs[i].Error()
		} else {
			verdict = string(verdicts[i].Verdict)
			if len(verdicts[i].Reasons) > 0 {
				reason = verdicts[i].Reasons[0]
			}
		}
		mark := ""
		switch truths[i] {
		case runs:
			correct++
			if verdict == string(verify.Mislabeled) {
				falseMis++
				mark = "  FALSE MISLABELED"
			}
		case crashes:
			crashing++
			if verdict == string(verify.OK) {
				falseOK++
				mark = "  FALSE OK"
			}
		case excluded:
			nExcluded++
			mark = "  EXCLUDED: " + details[i]
			fmt.Fprintf(&table, "%-34s %-8s %-11s %s\n", c.Name, truths[i], "-", mark)
			continue
		default:
			broken++
			mark = "  NO TRUTH: " + details[i]
		}
		if verdict != string(verify.OK) && verdict != string(verify.Mislabeled) {
			unverified++
		}
		fmt.Fprintf(&table, "%-34s %-8s %-11s %.140s%s\n", c.Name, truths[i], verdict, reason, mark)
	}
	t.Logf("trust case set: %d cases, %d run under their declared CPU, %d crash, %d without a truth on this host\n%s", len(cases), correct, crashing, nExcluded, table.String())
	t.Logf("false mislabeled %d of %d correct (limit %d), false ok %d of %d crashing (limit %d), unverified or errors %d (limit %d)",
		falseMis, correct, maxFalseMislabeled, falseOK, crashing, maxFalseOK, unverified, maxUnverified)
	if broken > 0 {
		t.Errorf("%d cases have no truth (their run neither exited 0 nor died of a CPU mismatch): the case set is unsound", broken)
	}
	if crashing == 0 || correct == 0 {
		t.Errorf("the case set needs both correct and crashing builds (%d, %d)", correct, crashing)
	}
	if falseMis > maxFalseMislabeled {
		t.Errorf("false mislabeled: %d of %d correct builds, want at most %d", falseMis, correct, maxFalseMislabeled)
	}
	if falseOK > maxFalseOK {
		t.Errorf("false ok: %d of %d crashing builds, want at most %d", falseOK, crashing, maxFalseOK)
	}
	if unverified > maxUnverified {
		t.Errorf("unverified: %d, want at most %d", unverified, maxUnverified)
	}
}

func tag(i int) string { return fmt.Sprintf("case%03d", i) }

func readCases(t *testing.T, file string) []trustCase {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("reading the case set (run test/trust/build.sh): %v", err)
	}
	defer f.Close()
	var out []trustCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c trustCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: %q: %v", file, sc.Text(), err)
		}
		if _, ok := truthModels[c.Target]; !ok || len(c.Argv) == 0 {
			t.Fatalf("%s: case %s: target %q has no truth model, or no command", file, c.Name, c.Target)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s lists no case", file)
	}
	return out
}

// packRoot makes one gzip layer of the files, links and directories under
// root, as `docker build` would from a COPY of it.
func packRoot(t *testing.T, root string) v1.Layer {
	t.Helper()
	file := filepath.Join(t.TempDir(), "layer.tar.gz")
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(out, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "", ""
		h.ModTime = time.Unix(0, 0)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(data)
			return err
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = out.Close()
	}
	if err != nil {
		t.Fatalf("packing %s: %v", root, err)
	}
	l, err := tarball.LayerFromFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// caseIndex is a one-entry index: the case's image, declaring its target
// as tailor's annotation (as `tailor index create` writes it).
func caseIndex(t *testing.T, c trustCase, l v1.Layer) v1.ImageIndex {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Entrypoint = c.Argv
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return mutate.AppendManifests(empty.Index, mutate.IndexAddendum{
		Add: img,
		Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "linux", Architecture: "amd64"},
			Annotations: map[string]string{requirement.AnnotationCPUTarget: c.Target},
		},
	})
}

// cpuRefusals are what a program or its loader prints when it refuses a
// CPU below what it was built for.
var cpuRefusals = []string{
	"CPU ISA level is lower than required",
	"CPU does not support x86-64-v",
	"This program can only be run on AMD64 processors with",
}

// truth runs the case's program under the qemu CPU model of its declared
// target (natively for x86_64_v4 on an AVX-512 host), independent of
// tailor: exit 0 runs, SIGILL or a CPU refusal crashes; anything else is
// no truth (detail says what happened).
func truth(ctx context.Context, qemu, root string, c trustCase) (outcome, string) {
	argv := c.Argv
	if len(c.Truth) > 0 {
		argv = c.Truth
	}
	model := truthModels[c.Target]
	host := filepath.Join(root, filepath.FromSlash(argv[0]))
	var cmd *exec.Cmd
	ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	if model == "native" {
		if !hostHasV4() {
			return excluded, "this host has no AVX-512 F/BW/CD/DQ/VL to run x86_64_v4 natively, and qemu's TCG emulates none"
		}
		if !isStatic(host) {
			return "", "native truth runs only static programs"
		}
		cmd = exec.CommandContext(ctx, host, argv[1:]...)
	} else {
		cmd = exec.CommandContext(ctx, qemu, append([]string{"-L", root, "-cpu", model, "-0", argv[0], host}, argv[1:]...)...)
	}
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return runs, ""
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGILL {
			return crashes, "SIGILL"
		}
		if ee.ExitCode() == 128+int(syscall.SIGILL) && strings.Contains(stderr.String(), "Illegal instruction") {
			return crashes, "SIGILL"
		}
		for _, r := range cpuRefusals {
			if strings.Contains(stderr.String(), r) {
				return crashes, r
			}
		}
	}
	return "", fmt.Sprintf("under %s: %v: %.300s", model, err, stderr.String())
}

func isStatic(p string) bool {
	out, err := exec.Command("readelf", "-lW", p).Output()
	return err == nil && !bytes.Contains(out, []byte("INTERP"))
}

// hostHasV4 reports whether this host has x86-64-v4's AVX-512 subsets.
func hostHasV4() bool {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "flags" {
			fl := strings.Fields(v)
			return !slices.ContainsFunc([]string{"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}, func(f string) bool { return !slices.Contains(fl, f) })
		}
	}
	return false
}
