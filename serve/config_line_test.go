package serve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigUnknownKeyLine: an unknown key in serve --config is named with
// its line, as tailor.yaml's are.
func TestConfigUnknownKeyLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "serve.yaml")
	if err := os.WriteFile(path, []byte("listen: 127.0.0.1:5000\nupstreams:\n  - name: docker.io\n    url: https://registry-1.docker.io\nhtpassword: /etc/htpasswd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path)
	if err == nil || !strings.Contains(err.Error(), `unknown field "htpassword" on line 5`) {
		t.Errorf("LoadConfig: %v, want the unknown field and its line", err)
	}
}
