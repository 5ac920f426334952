package remote

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tailor-dev/tailor/internal/logtest"
)

func TestClientLogs(t *testing.T) {
	host, _ := fakeRegistry(t, func(_ int, w http.ResponseWriter) {
		time.Sleep(300 * time.Millisecond)
		serveIndex(w)
	})
	var buf logtest.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := fastClient(t, WithLogger(log), func(o *options) error { o.slow = 50 * time.Millisecond; return nil })
	if _, err := c.Get(context.Background(), host+"/app:1"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"level=WARN msg=\"still waiting for the registry to answer\" method=GET url=http://" + host + "/v2/app/manifests/1",
		"level=DEBUG msg=\"registry request\" method=GET url=http://" + host + "/v2/app/manifests/1 status=200",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}
