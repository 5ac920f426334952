package fleet

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/mirrorconfig"
	"github.com/tailor-dev/tailor/nfd"
	"github.com/tailor-dev/tailor/profile"
)

func TestSetupAndCleanupNode(t *testing.T) {
	dir := t.TempDir()
	certs := filepath.Join(dir, "certs.d")
	foreign := filepath.Join(certs, "quay.io", "hosts.toml")
	if err := os.MkdirAll(filepath.Dir(foreign), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(foreign, []byte("server = \"https://quay.io\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := profile.ParseSpec("cpu=zen4,gpu=9.0,driver=550.54.14")
	if err != nil {
		t.Fatal(err)
	}
	s := NodeSetup{
		CertsDir:     certs,
		Mirror:       mirrorconfig.Options{Server: "http://127.0.0.1:5000", Registries: []string{"docker.io", "quay.io", "127.0.0.1:5001=http://127.0.0.1:5001"}},
		FeaturesFile: filepath.Join(dir, "features.d", "tailor"),
		Profile:      p,
	}
	for range 2 { // twice: rewriting its own files is fine
		r, err := SetupNode(s)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Written) != 3 || len(r.Skipped) != 1 || !strings.Contains(r.Skipped[0], "quay.io") {
			t.Fatalf("SetupNode = %+v, want docker.io, 127.0.0.1:5001 and features written, quay.io skipped", r)
		}
	}
	hosts, err := os.ReadFile(filepath.Join(certs, "127.0.0.1:5001", "hosts.toml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`server = "http://127.0.0.1:5001"`, `[host."http://127.0.0.1:5000"]`, `capabilities = ["pull", "resolve"]`} {
		if !strings.Contains(string(hosts), want) {
			t.Errorf("hosts.toml lacks %q:\n%s", want, hosts)
		}
	}
	features, err := os.ReadFile(s.FeaturesFile)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(features)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			labels[k] = v
		}
	}
	back, _, err := nfd.Profile(labels)
	if err != nil || back.CPU.Microarchitecture != "zen4" || len(back.GPUs) != 1 {
		t.Errorf("feature file reads back as %+v, %v", back, err)
	}
	if ents, _ := os.ReadDir(filepath.Join(certs, "docker.io")); len(ents) != 1 {
		t.Errorf("temporary files left beside hosts.toml: %v", ents)
	}

	r, err := CleanupNode(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Removed) != 3 || len(r.Skipped) != 1 {
		t.Errorf("CleanupNode = %+v, want 3 removed, quay.io skipped", r)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("the operator's own hosts.toml is gone: %v", err)
	}
	left, _ := os.ReadDir(certs)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"quay.io"}) {
		t.Errorf("certs.d holds %v after cleanup, want only quay.io", names)
	}
	if _, err := os.Stat(s.FeaturesFile); !os.IsNotExist(err) {
		t.Errorf("feature file still there: %v", err)
	}
	if r, err := CleanupNode(s); err != nil || len(r.Removed) != 0 {
		t.Errorf("second cleanup: %+v, %v", r, err)
	}
}

func TestSetupNodeBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, s := range []NodeSetup{
		{CertsDir: dir, Mirror: mirrorconfig.Options{Server: "ftp://x", Registries: []string{"docker.io"}}},
		{CertsDir: dir, Mirror: mirrorconfig.Options{Server: "http://127.0.0.1:5000", Registries: []string{"../../etc=http://x"}}},
		{FeaturesFile: filepath.Join(dir, "f")},
	} {
		if _, err := SetupNode(s); err == nil {
			t.Errorf("SetupNode(%+v) succeeded", s)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("bad input wrote %v", ents)
	}
}
