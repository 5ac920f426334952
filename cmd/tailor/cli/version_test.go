package cli

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	code, out, errs := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "tailor ") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("version: exit %d, %q %q", code, out, errs)
	}
	code, out, _ = runCLI(t, "version", "-o", "json")
	var b buildInfo
	if err := json.Unmarshal([]byte(out), &b); code != 0 || err != nil || b.Version == "" || b.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("version -o json: exit %d, %+v, %v", code, b, err)
	}
	if code, out, _ := runCLI(t, "--version"); code != 0 || !strings.HasPrefix(out, "tailor ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
	if code, _, _ := runCLI(t, "version", "-o", "yaml"); code != exitUsage {
		t.Errorf("version -o yaml: exit %d, want %d", code, exitUsage)
	}
}
