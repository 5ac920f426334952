package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tailor-dev/tailor/internal/logtest"
)

// TestServeChecksInputFirst: a bad --listen or a missing TLS file is a
// usage error (exit 2) before anything is created or said to listen; a
// storage that cannot be made is a failure (exit 1).
func TestServeChecksInputFirst(t *testing.T) {
	dir := t.TempDir()
	storage := filepath.Join(dir, "storage")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "localhost"}, "--listen"},
		{[]string{"--listen", "127.0.0.1:99999"}, "--listen"},
		{[]string{"--tls-cert", filepath.Join(dir, "missing.crt"), "--tls-key", filepath.Join(dir, "missing.key")}, "missing.crt"},
		{[]string{"--tls-cert", filepath.Join(dir, "missing.crt")}, "go together"},
	} {
		args := append([]string{"serve", "--storage", storage, "--listen", "127.0.0.1:0"}, c.args...)
		code, _, errs := runCLI(t, args...)
		if code != exitUsage || !strings.Contains(errs, c.want) || strings.Contains(errs, "listening") {
			t.Errorf("serve %q: exit %d %s; want %d naming %s, before listening", c.args, code, errs, exitUsage, c.want)
		}
		if _, err := os.Stat(storage); err == nil {
			t.Fatalf("serve %q created its storage before refusing its input", c.args)
		}
	}
	// A storage under a file cannot be made: the machine's failure, not
	// the user's flag syntax.
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCLI(t, "serve", "--storage", filepath.Join(file, "storage"), "--listen", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errs, "storage") {
		t.Errorf("serve with a storage under a file: exit %d %s, want 1", code, errs)
	}
}

// TestServeSaysLoginWithoutLogin: a server without --login says at start
// that docker login changes nothing there; with --login it does not.
func TestServeSaysLoginWithoutLogin(t *testing.T) {
	for _, login := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		var out, errb logtest.Buffer
		done := make(chan int, 1)
		args := []string{"serve", "--listen", "127.0.0.1:0", "--storage", t.TempDir(), "--profile", "none"}
		if login {
			args = append(args, "--login")
		}
		go func() { done <- Execute(ctx, args, &out, &errb) }()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(errb.String(), "profile per client") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		<-done
		said := strings.Contains(errb.String(), "docker login and podman login to this server say they succeeded and change nothing")
		if said == login {
			t.Errorf("--login=%v: the startup log says docker login changes nothing: %v\n%s", login, said, errb.String())
		}
	}
}
