package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tailor-dev/tailor/internal/logtest"
)

// TestServeLogHidesCredentials: the startup log printed the upstream URLs
// as given, user and password included.
func TestServeLogHidesCredentials(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb logtest.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Execute(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--storage", t.TempDir(), "--profile", "none",
			"--upstream", "up=https://alice:s3cret-token@registry.example:5000"}, &out, &errb)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(errb.String(), "listening") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	code := <-done
	log := errb.String()
	if !strings.Contains(log, "listening") || code != 0 {
		t.Fatalf("serve did not start (exit %d): %s", code, log)
	}
	if strings.Contains(log, "s3cret") || strings.Contains(log, "alice") {
		t.Errorf("the startup log holds the upstream's credentials: %s", log)
	}
	if !strings.Contains(log, "up=https://registry.example:5000") {
		t.Errorf("the startup log does not name the upstream: %s", log)
	}
}

// TestServeBadUpstreamHidesCredentials: a bad --upstream is a usage error
// whose message holds no password.
func TestServeBadUpstreamHidesCredentials(t *testing.T) {
	code, _, stderr := runCLI(t, "serve", "--listen", "127.0.0.1:0", "--storage", t.TempDir(),
		"--upstream", "up=ftp://alice:s3cret@host")
	if code != 2 || strings.Contains(stderr, "s3cret") {
		t.Errorf("exit %d, %q: want 2 and no password", code, stderr)
	}
}
