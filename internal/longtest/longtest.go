// Package longtest marks the tests that are slow for what they add to
// `go test ./...` on a newcomer's machine (cross-compiling tailor for
// another architecture, the whole cross-platform image matrix): they run
// where TAILOR_LONG=1, as CI sets it, and are skipped with a line that
// says so elsewhere.
package longtest

import (
	"os"
	"testing"
)

// Env is the environment variable that turns long tests on ("1").
const Env = "TAILOR_LONG"

// On reports whether long tests run.
func On() bool { return os.Getenv(Env) == "1" }

// Need skips t unless long tests run; why says what makes it long.
func Need(t testing.TB, why string) {
	t.Helper()
	if !On() {
		t.Skipf("long test (%s): runs where %s=1, as CI sets it", why, Env)
	}
}
