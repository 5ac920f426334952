package stack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/profile"
)

func TestReadFleet(t *testing.T) {
	dir := t.TempDir()
	p, err := profile.ParseSpec("cpu=zen4,label.fabric=ofi")
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "node1.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	in := "# the fleet\n\ncpu=haswell,label.fabric=ucx\n  node1.json  \n" + strings.ReplaceAll(string(data), "\n", " ") + "\n"
	hosts, err := ReadFleet(strings.NewReader(in), dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ name, cpu, fabric string }{
		{"cpu=haswell,label.fabric=ucx", "haswell", "ucx"}, {"node1.json", "zen4", "ofi"}, {"", "zen4", "ofi"},
	}
	if len(hosts) != len(want) {
		t.Fatalf("ReadFleet = %d hosts, want %d", len(hosts), len(want))
	}
	for i, w := range want {
		h := hosts[i]
		if (w.name != "" && h.Name != w.name) || h.Profile.CPU.Microarchitecture != w.cpu || h.Profile.Labels["fabric"] != w.fabric {
			t.Errorf("host %d = %s %s %v, want %s %s fabric=%s", i, h.Name, h.Profile.CPU.Microarchitecture, h.Profile.Labels, w.name, w.cpu, w.fabric)
		}
	}
	for _, bad := range []string{"cpu=pentium9000\n", "cpu=zen3\nnosuchfile.json\n", "{not json\n", "cpu=zen3,gpu=x\n"} {
		_, err := ReadFleet(strings.NewReader(bad), dir)
		if err == nil || !strings.Contains(err.Error(), "line") {
			t.Errorf("ReadFleet(%q) = %v, want an error naming the line", bad, err)
		}
	}
}

func FuzzReadFleet(f *testing.F) {
	for _, s := range []string{"cpu=zen3\n", "# c\n\ncpu=haswell,label.fabric=ucx\n", `{"cpu":{"microarchitecture":"zen4"}}`, "cpu=x86_64_v3,gpu=8.0,driver=550.54\n"} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, s string) {
		hosts, err := ReadFleet(strings.NewReader(s), dir)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("ReadFleet(%q): error of several lines: %v", s, err)
			}
			return
		}
		for _, h := range hosts {
			if h.Profile == nil {
				t.Errorf("ReadFleet(%q): host %q without a profile", s, h.Name)
			}
		}
	})
}
