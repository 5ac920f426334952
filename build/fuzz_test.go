package build

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse feeds build files to Parse and, for those it accepts, to
// NewPlan (with no compiler to find, so nothing runs): bad input is one
// error line, never a panic.
func FuzzParse(f *testing.F) {
	for _, path := range []string{"../examples/forces/tailor.yaml", "../examples/stack/tailor.yaml"} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("axes: {cpu: [x86_64], cuda: [none, {arch: sm_80, version: '12.4'}], phase: [a, {value: b, requires: none}]}\ncomponents: [{name: a, dir: 'd/${phase}', varies: [phase]}]\nexclude: [{arch: amd64, cuda: '*'}]\n")
	f.Add("targets: ['cpu=x86_64,cuda=sm_80']\ncommand: make\n")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, yaml string) {
		c, err := Parse([]byte(yaml), dir)
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Errorf("Parse: %v, not an ErrConfig", err)
			}
			return
		}
		_, err = NewPlan(context.Background(), c, WithCompiler("amd64", "/nonexistent/cc"), WithCompiler("arm64", "/nonexistent/cc"),
			WithTool(ToolNVCC, "/nonexistent/nvcc"), WithTool(ToolHIPCC, "/nonexistent/hipcc"))
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("NewPlan: error of several lines: %v", err)
		}
	})
}
