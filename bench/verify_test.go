package bench

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/tailor-dev/tailor/internal/gcctest"
)

// TestVerifyLargeImage times `tailor verify` on an image of more than
// 500 MB beside, in the same run, the floor of any tool that looks at
// every file (gunzip of every layer to /dev/null, gzip -dc) and unpacking
// the image to disk (tar -xzf of every layer), as a tool that unpacks
// first would. The image is five
// layers of 110 MB of incompressible data in 1 MiB files, one layer of 200
// copies of a static ELF program (each head read, each scanned for CUDA
// fat binaries), and the program the entry runs; gzip level 1. It runs
// only with TAILOR_BENCH_VERIFY=1:
//
//	TAILOR_BENCH_VERIFY=1 go test -run VerifyLargeImage -v -timeout 30m ./bench/
func TestVerifyLargeImage(t *testing.T) {
	if os.Getenv("TAILOR_BENCH_VERIFY") == "" {
		t.Skip("set TAILOR_BENCH_VERIFY=1 to run")
	}
	setupOnce.Do(func() { shared, setupErr = newEnv() })
	if setupErr != nil {
		t.Fatal(setupErr)
	}
	prog := gcctest.Build(t, gcctest.Kernels(t), "forces", "x86-64-v3", "-static")
	dir := t.TempDir()
	blobs := largeLayout(t, dir, prog)

	runs := 3
	var rows []string
	for i := 0; i < runs; i++ {
		v := timeRun(t, exec.Command(shared.tailor, "verify", "oci:"+dir+":1", "-o", "json"))
		// Peak RSS from a second run under GNU time (measure's note says why).
		_, _, rss, err := measure(shared.tailor, "verify", "oci:"+dir+":1", "--run=false")
		if err != nil {
			t.Fatal(err)
		}
		var results []struct {
			Verdict  string   `json:"verdict"`
			Reasons  []string `json:"reasons"`
			Evidence struct {
				BytesRead    int64 `json:"bytes_read"`
				Uncompressed int64 `json:"bytes_uncompressed"`
				Extracted    int64 `json:"bytes_extracted"`
				Files        int   `json:"files"`
				ELF          int   `json:"elf_files"`
			} `json:"evidence"`
		}
		if err := json.Unmarshal(v.stdout, &results); err != nil || len(results) != 1 {
			t.Fatalf("verify -o json: %v\n%s", err, v.stdout)
		}
		r := results[0]
		if r.Verdict != "ok" {
			t.Errorf("verdict %s: %v", r.Verdict, r.Reasons)
		}
		floor := timeRun(t, exec.Command("sh", "-c", "for b in "+strings.Join(blobs, " ")+"; do gzip -dc $b >/dev/null; done"))
		unpackDir := t.TempDir()
		unpack := timeRun(t, exec.Command("sh", "-c", "for b in "+strings.Join(blobs, " ")+"; do tar -xzf $b -C "+unpackDir+"; done"))
		rows = append(rows, fmt.Sprintf("| %d | %s | %.2f s / %.2f s | %d MB | %.2f s / %.2f s | %.2f s / %.2f s | %.2f / %.2f | %.2f / %.2f | %d MB read, %d MB uncompressed, %.1f MB written, %d files (%d ELF) |",
			i+1, r.Verdict, v.wall.Seconds(), v.cpu.Seconds(), rss>>20, floor.wall.Seconds(), floor.cpu.Seconds(),
			unpack.wall.Seconds(), unpack.cpu.Seconds(),
			v.wall.Seconds()/floor.wall.Seconds(), v.cpu.Seconds()/floor.cpu.Seconds(),
			v.wall.Seconds()/unpack.wall.Seconds(), v.cpu.Seconds()/unpack.cpu.Seconds(),
			r.Evidence.BytesRead>>20, r.Evidence.Uncompressed>>20, float64(r.Evidence.Extracted)/(1<<20), r.Evidence.Files, r.Evidence.ELF))
	}
	t.Logf("\n| run | verdict | verify wall / CPU | verify max RSS | gzip -dc wall / CPU | tar -xzf wall / CPU | verify ÷ gzip -dc (wall / CPU) | verify ÷ tar -xzf (wall / CPU) | verify |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n%s", strings.Join(rows, "\n"))
}

// timed is one process run: wall time, CPU (user+sys, children
// included) and what it printed.
type timed struct {
	wall, cpu time.Duration
	stdout    []byte
}

// timeRun runs cmd; exit status 1 (a mislabeled verdict) is a result.
func timeRun(t *testing.T, cmd *exec.Cmd) timed {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil && (cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1) {
		t.Fatalf("%v: %v\n%s", cmd.Args[:2], err, errb.String())
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return timed{wall: wall, cpu: cpu, stdout: out.Bytes()}
}

// largeLayout writes the image to an OCI layout at dir and returns the
// paths of its layer blobs.
func largeLayout(t *testing.T, dir, prog string) []string {
	t.Helper()
	elf, err := os.ReadFile(prog)
	if err != nil {
		t.Fatal(err)
	}
	var layers []v1.Layer
	chunk := make([]byte, 1<<20)
	for l := 0; l < 5; l++ {
		layers = append(layers, tarLayer(t, func(tw *tar.Writer) {
			for f := 0; f < 110; f++ {
				_, _ = rand.Read(chunk)
				writeFile(t, tw, fmt.Sprintf("data/%d/%d.bin", l, f), chunk)
			}
		}))
	}
	layers = append(layers, tarLayer(t, func(tw *tar.Writer) {
		for f := 0; f < 200; f++ {
			writeFile(t, tw, fmt.Sprintf("usr/libexec/tool%d", f), elf)
		}
	}))
	layers = append(layers, tarLayer(t, func(tw *tar.Writer) { writeFile(t, tw, "forces", elf) }))
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Entrypoint, cf.Config.Cmd = []string{"/forces"}, []string{"200", "1"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
		Platform: &v1.Platform{OS: "linux", Architecture: "amd64", Variant: "v3"}}})
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "1"})); err != nil {
		t.Fatal(err)
	}
	var blobs []string
	for _, l := range layers {
		d, _ := l.Digest()
		blobs = append(blobs, filepath.Join(dir, "blobs", d.Algorithm, d.Hex))
	}
	return blobs
}

// tarLayer makes a gzip (level 1) layer of what fill writes, buffered in a
// temporary file.
func tarLayer(t *testing.T, fill func(*tar.Writer)) v1.Layer {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "layer-*.tar")
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	fill(tw)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := tarball.LayerFromFile(f.Name(), tarball.WithCompressionLevel(gzip.BestSpeed))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func writeFile(t *testing.T, tw *tar.Writer, name string, data []byte) {
	t.Helper()
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(tw, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyDebianRoot times `tailor verify` on a real Debian root (about
// 150 packages unpacked with dpkg -x by debian-root.sh: 9,000 files, 1,000
// of them ELF) packed as three gzip layers at the default level (as
// docker and ggcr write them): /usr/lib, the program directories, the
// rest. The entry runs /usr/bin/python3.11. Beside it, in the same run,
// the floors of decompressing the layers once: GNU `gzip -dc`, and Go's
// standard library and klauspost/compress gzip (bench/gunzip). CPU is
// user+sys from each process' rusage. TAILOR_BENCH_LAYOUT keeps the layout
// in that directory (to profile on). TAILOR_BENCH_BASELINE names another
// tailor binary (an earlier build) to time beside it. It runs only with
// TAILOR_BENCH_VERIFY=1 (TAILOR_BENCH_ROOT: an unpacked root to use):
//
//	TAILOR_BENCH_VERIFY=1 go test -run VerifyDebianRoot -v -timeout 30m ./bench/
func TestVerifyDebianRoot(t *testing.T) {
	if os.Getenv("TAILOR_BENCH_VERIFY") == "" {
		t.Skip("set TAILOR_BENCH_VERIFY=1 to run")
	}
	root := os.Getenv("TAILOR_BENCH_ROOT")
	if root == "" {
		root = filepath.Join(t.TempDir(), "root")
		if out, err := exec.Command("./debian-root.sh", root).CombinedOutput(); err != nil {
			t.Fatalf("debian-root.sh: %v\n%s", err, out)
		}
	}
	bin := t.TempDir()
	tailor, gunzip := filepath.Join(bin, "tailor"), filepath.Join(bin, "gunzip")
	for out, pkg := range map[string]string{tailor: "../cmd/tailor", gunzip: "./gunzip"} {
		build := exec.Command("go", "build", "-o", out, pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, msg)
		}
	}
	dir := os.Getenv("TAILOR_BENCH_LAYOUT") // kept, to profile on
	if dir == "" {
		dir = t.TempDir()
	}
	blobs := rootLayout(t, dir, root)
	ref := "oci:" + dir + ":1"
	var rows []string
	for i := 0; i < runs(3); i++ {
		gz := timeRun(t, exec.Command("sh", "-c", "for b in "+strings.Join(blobs, " ")+"; do gzip -dc $b >/dev/null; done"))
		std := timeRun(t, exec.Command(gunzip, append([]string{"-lib", "stdlib"}, blobs...)...))
		kp := timeRun(t, exec.Command(gunzip, append([]string{"-lib", "klauspost"}, blobs...)...))
		norun := timeRun(t, exec.Command(tailor, "verify", ref, "--run=false", "-o", "json"))
		run := timeRun(t, exec.Command(tailor, "verify", ref, "-o", "json"))
		base := "-"
		if b := os.Getenv("TAILOR_BENCH_BASELINE"); b != "" {
			x := timeRun(t, exec.Command(b, "verify", ref, "--run=false", "-o", "json"))
			base = fmt.Sprintf("%.2f s / %.2f s (%.2f of gzip -dc)", x.wall.Seconds(), x.cpu.Seconds(), x.cpu.Seconds()/gz.cpu.Seconds())
		}
		var results []struct {
			Verdict  string   `json:"verdict"`
			Reasons  []string `json:"reasons"`
			Evidence struct {
				BytesRead    int64 `json:"bytes_read"`
				Uncompressed int64 `json:"bytes_uncompressed"`
				Extracted    int64 `json:"bytes_extracted"`
				Files        int   `json:"files"`
				ELF          int   `json:"elf_files"`
			} `json:"evidence"`
		}
		if err := json.Unmarshal(norun.stdout, &results); err != nil || len(results) != 1 {
			t.Fatalf("verify -o json: %v\n%s", err, norun.stdout)
		}
		r := results[0]
		c := func(x timed) string { return fmt.Sprintf("%.2f s / %.2f s", x.wall.Seconds(), x.cpu.Seconds()) }
		rows = append(rows, fmt.Sprintf("| %d | %s | %s | %s | %s | %s | %s | %.2f | %.2f | %.2f | %s: %d MB read, %d MB uncompressed, %.1f MB written, %d files (%d ELF) |",
			i+1, c(norun), c(run), c(gz), c(std), c(kp),
			base,
			norun.cpu.Seconds()/gz.cpu.Seconds(), norun.cpu.Seconds()/std.cpu.Seconds(), norun.cpu.Seconds()/kp.cpu.Seconds(),
			r.Verdict, r.Evidence.BytesRead>>20, r.Evidence.Uncompressed>>20, float64(r.Evidence.Extracted)/(1<<20), r.Evidence.Files, r.Evidence.ELF))
	}
	t.Logf("\n| run | verify --run=false wall / CPU | verify (with a run) wall / CPU | gzip -dc | Go stdlib gunzip | klauspost gunzip | baseline verify --run=false | CPU ÷ gzip -dc | CPU ÷ stdlib | CPU ÷ klauspost | verify --run=false |\n|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|\n%s", strings.Join(rows, "\n"))
}

// rootLayout packs root as three layers (usr/lib; bin, sbin, usr/bin,
// usr/sbin, usr/libexec; the rest) of an image running python3.11, in an
// OCI layout at dir, and returns the layer blobs' paths.
func rootLayout(t *testing.T, dir, root string) []string {
	t.Helper()
	part := func(rel string) int {
		switch {
		case rel == "usr/lib" || strings.HasPrefix(rel, "usr/lib/"):
			return 0
		case strings.HasPrefix(rel, "usr/bin") || strings.HasPrefix(rel, "usr/sbin") || strings.HasPrefix(rel, "usr/libexec") ||
			rel == "bin" || rel == "sbin" || strings.HasPrefix(rel, "bin/") || strings.HasPrefix(rel, "sbin/"):
			return 1
		}
		return 2
	}
	var layers []v1.Layer
	for k := 0; k < 3; k++ {
		f, err := os.CreateTemp(t.TempDir(), "layer-*.tar")
		if err != nil {
			t.Fatal(err)
		}
		tw := tar.NewWriter(f)
		err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || p == root {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if part(filepath.ToSlash(rel)) != k {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			link := ""
			if fi.Mode()&os.ModeSymlink != 0 {
				if link, err = os.Readlink(p); err != nil {
					return err
				}
			}
			h, err := tar.FileInfoHeader(fi, link)
			if err != nil {
				return err
			}
			h.Name, h.Uname, h.Gname = filepath.ToSlash(rel), "", ""
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			if fi.Mode().IsRegular() {
				src, err := os.Open(p)
				if err != nil {
					return err
				}
				defer src.Close()
				_, err = io.Copy(tw, src)
				return err
			}
			return nil
		})
		if err == nil {
			err = tw.Close()
		}
		if err == nil {
			err = f.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
		l, err := tarball.LayerFromFile(f.Name(), tarball.WithCompressionLevel(gzip.DefaultCompression))
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, l)
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Entrypoint = []string{"/usr/bin/python3.11", "-c", "import json, zlib; print(json.dumps([zlib.crc32(b'tailor')]))"}
	cf.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
		Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "1"})); err != nil {
		t.Fatal(err)
	}
	var blobs []string
	for _, l := range layers {
		d, _ := l.Digest()
		blobs = append(blobs, filepath.Join(dir, "blobs", d.Algorithm, d.Hex))
	}
	return blobs
}

// runs is TAILOR_BENCH_RUNS, or n.
func runs(n int) int {
	var k int
	if _, err := fmt.Sscan(os.Getenv("TAILOR_BENCH_RUNS"), &k); err == nil && k >= 0 {
		return k
	}
	return n
}
