package demo

import (
	"bytes"
	"context"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

func TestDemoLoop(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skip("the demo builds x86-64 or arm64 levels")
	}
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("no C compiler")
	}
	var out bytes.Buffer
	rep, err := Run(context.Background(), &out, Options{Runs: 1, Size: 256, Steps: 1, Jobs: 2})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	if len(rep.Built) == 0 || rep.Speedup <= 0 || rep.Tailored.Target == "" {
		t.Errorf("report = %+v", rep)
	}
	if !strings.Contains(out.String(), "vs generic: ") {
		t.Errorf("demo output lacks the speedup line:\n%s", out.String())
	}
}

func TestParseOutput(t *testing.T) {
	target, e, c, s, err := parseOutput("target=x86_64_v3 n=4096 steps=8 energy=-1.556125945367e+04 checksum=1.105892059282e+05 time=0.1254s\n")
	if err != nil || target != "x86_64_v3" || e != -1.556125945367e+04 || c != 1.105892059282e+05 || s != 0.1254 {
		t.Errorf("parseOutput = %q %v %v %v %v", target, e, c, s, err)
	}
	if _, _, _, _, err := parseOutput("Segmentation fault"); err == nil {
		t.Errorf("parseOutput(garbage) succeeded")
	}
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median = %v", m)
	}
}
