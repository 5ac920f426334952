package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/tailor-dev/tailor/internal/sharedtest"
)

// TestGeneratedUpToDate: catalog/targets_gen.go is what the generator
// makes of ../shared/archspec now: nobody edited it by hand, and the
// generator is deterministic.
func TestGeneratedUpToDate(t *testing.T) {
	src := sharedtest.Path(t, "archspec", "microarchitectures.json")
	var got bytes.Buffer
	if err := run(src, &got); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../targets_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Error("catalog/targets_gen.go differs from the generator's output: run go run ./catalog/internal/gen ../shared/archspec/microarchitectures.json > catalog/targets_gen.go")
	}
}
