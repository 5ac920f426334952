package cli

import (
	"strings"
	"testing"
)

// TestPinWebhookUsage: without TLS files (the API server calls webhooks
// over HTTPS) or with a bad timeout, one line and exit 2, before listening.
func TestPinWebhookUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"no tls":      {"pin-webhook"},
		"cert only":   {"pin-webhook", "--tls-cert", "x.crt"},
		"bad timeout": {"pin-webhook", "--plain-http", "--admission-timeout", "0s"},
	} {
		_, errs, code := run(t, args...)
		if code != 2 || !strings.HasPrefix(errs, "tailor: ") || strings.Count(errs, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and one line", name, code, errs)
		}
	}
}
