package cli

import (
	"strings"
	"testing"
)

// TestBadInputExitsTwo: a command line tailor cannot take exits 2 with one
// line saying what is wrong, before any registry is contacted (the
// registry named here does not exist).
func TestBadInputExitsTwo(t *testing.T) {
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"pull", "localhost:1/app:1"}, `"dest" not set`},
		{[]string{"index", "create", "localhost:1/app:1"}, `"entry" not set`},
		{[]string{"detect", "--labels-file", "/nonexistent/labels"}, "--labels-file"},
		{[]string{"resolve", "localhost:1/app:1", "--profile", "cpu=haswel"}, "did you mean haswell?"},
		{[]string{"resolve", "localhost:1/app:1", "--profile", "cpu=zen3", "--avoid", "avx513"}, "did you mean avx512"},
		{[]string{"targets", "zen33"}, "did you mean zen3?"},
		{[]string{"run", "localhost:1/app:1", "--engine", "foo", "--profile", "cpu=zen3"}, "--engine"},
	} {
		code, _, errs := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(errs, tc.says) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("tailor %s: exit %d, stderr %q; want 2 and one line saying %q", strings.Join(tc.args, " "), code, errs, tc.says)
		}
	}
	if code, out, errs := runCLI(t, "targets", "x86-64-v3"); code != 0 || !strings.Contains(out, "x86_64_v3") {
		t.Errorf("targets x86-64-v3: exit %d %q %q; want the x86_64_v3 target", code, out, errs)
	}
}

func TestServeBadListen(t *testing.T) {
	for _, addr := range []string{"nonsense", ":99999", "host:port"} {
		code, _, errs := runCLI(t, "serve", "--listen", addr, "--storage", t.TempDir())
		if code != exitUsage || !strings.Contains(errs, "--listen") {
			t.Errorf("serve --listen %s: exit %d, %q; want 2 naming --listen", addr, code, errs)
		}
	}
}
