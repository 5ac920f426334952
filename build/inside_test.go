package build

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPathsStayInside (D16): dir: and context: that lead outside the build
// file's directory (../.., an absolute path elsewhere, a symbolic link out)
// are refused when the file is read, before anything is copied; paths
// inside it are taken.
func TestPathsStayInside(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"src", "d/x86_64"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/etc", filepath.Join(root, "out-link")); err != nil {
		t.Fatal(err)
	}
	const axes = "axes: {cpu: [x86_64]}\n"
	targets := "targets: [x86_64]\ncommand: make\n"
	for name, tc := range map[string]struct {
		yaml string
		ok   bool
	}{
		"context inside":       {targets + "context: src\n", true},
		"context default":      {targets, true},
		"context up":           {targets + "context: ../../etc/ssl/certs\n", false},
		"context absolute":     {targets + "context: /etc/ssl/certs\n", false},
		"context link out":     {targets + "context: out-link\n", false},
		"dir inside":           {axes + "components: [{name: a, dir: 'd/${cpu}', varies: [cpu]}]\n", true},
		"dir up":               {axes + "components: [{name: a, dir: ../../etc/ssl/certs}]\n", false},
		"dir absolute":         {axes + "components: [{name: a, dir: /etc}]\n", false},
		"dir link out":         {axes + "components: [{name: a, dir: out-link/ssl}]\n", false},
		"component context up": {axes + "components: [{name: a, command: make, context: ../x}]\n", false},
	} {
		_, err := Parse([]byte(tc.yaml), root)
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: %v", name, err)
		case !tc.ok && (!errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "outside the build file's directory")):
			t.Errorf("%s: %v, want refused as outside the build file's directory", name, err)
		}
	}
}
