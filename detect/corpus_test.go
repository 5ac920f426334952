package detect

import (
	"testing"

	"github.com/tailor-dev/tailor/internal/sharedtest"
)

// corpusCase is one line of shared/cpu-corpus/expected.tsv.
type corpusCase struct {
	file, kind, machine, want string
	data                      []byte
}

// loadCorpus reads every case of the corpus (sharedtest.Corpus).
func loadCorpus(t testing.TB) []corpusCase {
	t.Helper()
	var cases []corpusCase
	for _, d := range sharedtest.Corpus(t) {
		cases = append(cases, corpusCase{file: d.File, kind: d.Kind, machine: d.Machine, want: d.Want, data: d.Data})
	}
	return cases
}

func (c corpusCase) parse() (*CPUInfo, error) {
	if c.kind == "sysctl" {
		return ParseSysctl(c.data, c.machine)
	}
	return ParseCPUInfo(c.data, c.machine)
}

func TestCorpus(t *testing.T) {
	cases := loadCorpus(t)
	if len(cases) == 0 {
		t.Fatal("expected.tsv lists no files")
	}
	passed := 0
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			if c.kind != "cpuinfo" && c.kind != "sysctl" {
				t.Fatalf("unknown kind %q", c.kind)
			}
			info, err := c.parse()
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			got, err := Target(info)
			if err != nil {
				t.Fatalf("Target: %v", err)
			}
			if got.Name() != c.want {
				t.Fatalf("Target(%s) = %s, want %s", c.file, got.Name(), c.want)
			}
			p := CPUProfile(info, got)
			if err := p.Validate(); err != nil {
				t.Fatalf("CPUProfile(%s) invalid: %v", c.file, err)
			}
			passed++
		})
	}
	t.Logf("corpus: %d/%d detected as expected", passed, len(cases))
}
