package mirrorconfig

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/internal/tooltest"
)

// TestHostsTOMLValid (D17): what node-setup writes is TOML an independent
// parser (Python's tomllib, TOML 1.0 as containerd's go-toml) reads back
// to the same strings, whatever the strings hold; registry names that are
// not host[:port] and upstream URLs with control characters are refused
// before anything is written (Go's %q wrote \x7f, not TOML).
func TestHostsTOMLValid(t *testing.T) {
	py := tooltest.Path(t, "python3")
	upstream := `https://reg.example/pa"th/é\x?q="a b"`
	files, err := ContainerdHosts(Options{Server: "http://127.0.0.1:5000", Registries: []string{"reg.example:443=" + upstream}}, "header")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := Render("podman", Options{Server: "http://127.0.0.1:5000", Registries: []string{"reg.example:443=" + upstream}})
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{"hosts.toml": files["reg.example:443"], "registries.conf": conf} {
		cmd := exec.Command(py, "-c", "import sys, tomllib, json; json.dump(tomllib.loads(sys.stdin.read()), sys.stdout)")
		cmd.Stdin = strings.NewReader(doc)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s is not TOML: %v\n%s\n%s", name, err, out, doc)
			continue
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatal(err)
		}
		if name == "hosts.toml" && v["server"] != upstream {
			t.Errorf("hosts.toml server reads back as %q, want %q", v["server"], upstream)
		}
	}
	for _, bad := range []string{"reg\x01.example", "reg example", "reg.example:80a", "-reg", "", "a..b", "reg.example=http://x\x7fy", "reg.example=ftp://x", "reg.example=http://"} {
		if _, err := ContainerdHosts(Options{Server: "http://127.0.0.1:5000", Registries: []string{bad}}, ""); err == nil {
			t.Errorf("registry entry %q accepted", bad)
		}
		if _, err := Render("skopeo", Options{Server: "http://127.0.0.1:5000", Registries: []string{bad}}); err == nil {
			t.Errorf("registries.conf entry %q accepted", bad)
		}
	}
}
