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
