//go:build unix

package registry

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

// TestCrashWhilePushing kills (SIGKILL) a process that pushes blobs,
// manifests and tags in a loop. After a restart every tag names a
// manifest whose bytes and blobs are all there and whole, and no
// temporary file is left.
func TestCrashWhilePushing(t *testing.T) {
	if dir := os.Getenv("REGISTRY_CRASH_DIR"); dir != "" {
		crashPusher(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWhilePushing$")
	cmd.Env = append(os.Environ(), "REGISTRY_CRASH_DIR="+dir)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %q %v", line, err)
	}
	time.Sleep(150 * time.Millisecond) // mid-loop
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	later := func() time.Time { return time.Now().Add(2 * tempMaxAge) }
	reg, base := newTest(t, dir, withClock(later))
	tags, _ := listDir(filepath.Join(dir, "repositories", "crash", "_tags"))
	t.Logf("%d tags pushed before the kill", len(tags))
	if len(tags) < 2 {
		t.Fatalf("only %d tags pushed before the kill", len(tags))
	}
	for _, tag := range tags {
		a := do(t, "GET", base+"/v2/crash/manifests/"+tag, nil)
		if a.status != http.StatusOK || digest.FromBytes(a.body).String() != a.header.Get("Docker-Content-Digest") {
			t.Errorf("tag %s after the crash: %d", tag, a.status)
			continue
		}
		var m manifestJSON
		jsonUnmarshal(a.body, &m)
		for _, l := range append(m.Layers, *m.Config) {
			b := do(t, "GET", base+"/v2/crash/blobs/"+l.Digest, nil)
			if b.status != http.StatusOK || digest.FromBytes(b.body).String() != l.Digest {
				t.Errorf("tag %s: blob %s after the crash: %d, %d bytes", tag, l.Digest, b.status, len(b.body))
			}
		}
	}
	for _, tmp := range []string{filepath.Join(dir, "tmp"), filepath.Join(dir, "blobs", "tmp")} {
		if left, _ := listDir(tmp); len(left) != 0 {
			t.Errorf("temporary files left in %s: %v", tmp, left)
		}
	}
	_ = reg
}

// crashPusher pushes until killed.
func crashPusher(dir string) {
	reg, err := New(context.Background(), dir)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(reg)
	base := srv.URL
	for i := 0; ; i++ {
		layer := bytes.Repeat([]byte(fmt.Sprintf("layer %d ", i)), 20000)
		body := imageManifest(fakeT{}, base, "crash", nil, layer)
		putManifest(fakeT{}, base, "crash", fmt.Sprintf("t%d", i), MediaOCIManifest, body)
		putManifest(fakeT{}, base, "crash", "latest", MediaOCIManifest, body)
		if i == 1 {
			os.Stdout.WriteString("ready\n")
		}
	}
}

// fakeT lets the push helpers run outside a test (in the child).
type fakeT struct{ testing.TB }

func (fakeT) Helper()                   {}
func (fakeT) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
func (fakeT) Fatal(a ...any)            { panic(fmt.Sprint(a...)) }
