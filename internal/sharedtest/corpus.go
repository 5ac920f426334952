package sharedtest

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CorpusDump is one dump of ../shared/cpu-corpus, as expected.tsv lists it.
type CorpusDump struct {
	// File is the dump's file name; Kind is "cpuinfo" or "sysctl";
	// Machine is the machine's uname -m; Want the target detection must
	// report.
	File, Kind, Machine, Want string
	// Data is the dump's content.
	Data []byte
}

// Corpus reads every dump the CPU corpus lists (skipping the test when the
// corpus is absent, like Path).
func Corpus(t testing.TB) []CorpusDump {
	t.Helper()
	dir := Path(t, "cpu-corpus")
	tsv, err := os.ReadFile(filepath.Join(dir, "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []CorpusDump
	sc := bufio.NewScanner(bytes.NewReader(tsv))
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 {
			t.Fatalf("expected.tsv: bad line %q", line)
		}
		d := CorpusDump{File: cols[0], Kind: cols[1], Machine: cols[2], Want: cols[3]}
		if d.Data, err = os.ReadFile(filepath.Join(dir, d.File)); err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		t.Fatal("expected.tsv lists no dumps")
	}
	return out
}
