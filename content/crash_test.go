//go:build unix

package content

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"
)

// TestCrash kills (SIGKILL) a process in the middle of writing a blob:
// after reopening, the committed blob reads back, the half-written one is
// not there under any name and no temporary file is left.
func TestCrash(t *testing.T) {
	if root := os.Getenv("CONTENT_CRASH_ROOT"); root != "" {
		crashChild(root)
		return
	}
	root := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$")
	cmd.Env = append(os.Environ(), "CONTENT_CRASH_ROOT="+root)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %q, %v", line, err)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	s := newStore(t, root) // the kernel dropped the child's lock
	if got := read(t, s, digest.FromString("committed")); got != "committed" {
		t.Errorf("committed blob after the crash = %q", got)
	}
	if n, _ := s.Usage(); n != 1 {
		t.Errorf("%d blobs after the crash, want 1", n)
	}
	if left := tmpFiles(t, s); len(left) != 0 {
		t.Errorf("temporary files after the crash: %v", left)
	}
	if _, err := s.Stat(context.Background(), digest.FromString(strings.Repeat("half", 1<<18))); err == nil {
		t.Error("the half-written blob is visible")
	}
}

// crashChild commits one blob, writes half of another, says ready and
// waits to be killed.
func crashChild(root string) {
	ctx := context.Background()
	s, err := New(ctx, root)
	if err != nil {
		panic(err)
	}
	if _, err := s.Put(ctx, digest.FromString("committed"), -1, strings.NewReader("committed")); err != nil {
		panic(err)
	}
	w, err := s.NewWriter(ctx)
	if err != nil {
		panic(err)
	}
	io.WriteString(w, strings.Repeat("half", 1<<17))
	os.Stdout.WriteString("ready\n")
	select {}
}
