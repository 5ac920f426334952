package cli

import (
	"bytes"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestShowProgressPlain(t *testing.T) {
	updates := make(chan v1.Update, 200)
	for i := int64(0); i <= 100; i++ {
		updates <- v1.Update{Total: 100 << 20, Complete: i << 20}
	}
	close(updates)
	var buf bytes.Buffer
	showProgress(&buf, "app:1", updates)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 11 || !strings.HasSuffix(lines[10], "100.0 MiB / 100.0 MiB (100%)") || strings.Contains(buf.String(), "\r") {
		t.Errorf("plain progress = %d lines:\n%s\nwant 11 lines, one per 10%%, no carriage returns", len(lines), buf.String())
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 41 << 20: "41.0 MiB", 3 << 30: "3.0 GiB"} {
		if got := size(n); got != want {
			t.Errorf("size(%d) = %q, want %q", n, got, want)
		}
	}
}
