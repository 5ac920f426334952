package verify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/detect"
	"github.com/tailor-dev/tailor/profile"
)

// TestQemuModels: every x86-64 model of qemuModels has, as qemu-user's TCG
// really provides it (the CPUID recorded under the model in detect's
// testdata), every feature of the targets it stands for; so a SIGILL under
// it proves the program needs more than the target.
func TestQemuModels(t *testing.T) {
	n := 0
	for target, model := range qemuModels {
		tg := catalog.MustLookup(target)
		if tg.Family() != "x86_64" {
			continue
		}
		data, err := os.ReadFile(filepath.Join("..", "detect", "testdata", "cpuid", "qemu-"+model+".json"))
		if err != nil {
			t.Fatalf("%s: no CPUID recorded under qemu -cpu %s: %v", target, model, err)
		}
		var c detect.CPUID
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatal(err)
		}
		info, err := c.Info()
		if err != nil {
			t.Fatal(err)
		}
		p := &profile.Profile{OS: "linux"}
		mt, err := detect.Target(info)
		if err != nil {
			t.Fatal(err)
		}
		p.SetCPU(mt, info.Features)
		for f := range tg.Features() {
			if f == "sse3" {
				f = "pni" // Linux's name, as CPUID reads it
			}
			if !p.HasFeature(f) {
				t.Errorf("qemu -cpu %s lacks %s, which %s needs", model, f, target)
			}
		}
		if !tg.Generic() && tg.Vendor() != info.Vendor {
			t.Errorf("qemu -cpu %s is %s, %s is %s", model, info.Vendor, target, tg.Vendor())
		}
		n++
	}
	if n < 8 {
		t.Errorf("checked %d models", n)
	}
}

func TestPlanRun(t *testing.T) {
	o, _ := newOptions([]Option{withLookPath(func(s string) (string, error) { return "/usr/bin/" + s, nil })})
	if p := o.planRun(catalog.MustLookup("haswell"), "amd64"); p.model != "Haswell" || p.emulator != "/usr/bin/qemu-x86_64" {
		t.Errorf("haswell: %+v", p)
	}
	if p := o.planRun(catalog.MustLookup("skylake_avx512"), "amd64"); p.skip == "" {
		t.Errorf("skylake_avx512 on another host: %+v, want skipped", p)
	}
	host, _ := profile.New("skylake_avx512")
	o.host = host
	if p := o.planRun(catalog.MustLookup("skylake_avx512"), "amd64"); !p.native {
		t.Errorf("skylake_avx512 on a skylake_avx512 host: %+v, want native", p)
	}
	o.lookPath = func(string) (string, error) { return "", os.ErrNotExist }
	if p := o.planRun(catalog.MustLookup("nehalem"), "amd64"); p.skip == "" {
		t.Errorf("no qemu: %+v", p)
	}
	o.run = false
	if p := o.planRun(catalog.MustLookup("nehalem"), "amd64"); p.skip != "runs are off" {
		t.Errorf("runs off: %+v", p)
	}
}
