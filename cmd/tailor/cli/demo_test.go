package cli

import (
	"strings"
	"testing"
)

// TestDemoBadInput: flags the demo cannot run with are bad input (exit 2)
// and refused before anything is built. The demo itself runs in package
// demo's tests.
func TestDemoBadInput(t *testing.T) {
	for _, args := range [][]string{{"--runs", "0"}, {"--size", "1"}, {"--steps", "-1"}, {"-j", "0"}, {"--runs", "x"}, {"extra"}} {
		code, out, errs := runCLI(t, append([]string{"demo"}, args...)...)
		if code != exitUsage || out != "" || !strings.HasPrefix(errs, "tailor: ") {
			t.Errorf("demo %v: exit %d, stdout %q, stderr %q; want exit %d, one error line", args, code, out, errs, exitUsage)
		}
	}
}
