package sharedtest

import (
	"fmt"
	"testing"
)

// recorder is a testing.TB that records how a test ended instead of
// ending it.
type recorder struct {
	testing.TB
	ended string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatal(args ...any) {
	r.ended = "fatal"
	panic(r)
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.ended = "fatal: " + fmt.Sprintf(format, args...)
	panic(r)
}
func (r *recorder) Skipf(format string, args ...any) {
	r.ended = "skip: " + fmt.Sprintf(format, args...)
	panic(r)
}

func endOf(t *testing.T, elem string) string {
	r := &recorder{TB: t}
	func() {
		defer func() {
			if p := recover(); p != nil && p != r {
				panic(p)
			}
		}()
		Path(r, elem)
	}()
	return r.ended
}

func TestPathMissing(t *testing.T) {
	t.Setenv(RequireEnv, "")
	if got := endOf(t, "no-such-data"); got == "" || got[:4] != "skip" {
		t.Errorf("Path of missing data outside CI ended %q, want a skip", got)
	}
	t.Setenv(RequireEnv, "1")
	if got := endOf(t, "no-such-data"); got == "" || got[:5] != "fatal" {
		t.Errorf("Path of missing data with %s=1 ended %q, want a failure", RequireEnv, got)
	}
	if _, ok := Find(t, "."); ok && endOf(t, ".") != "" {
		t.Errorf("Path of the shared folder itself ended the test")
	}
}
