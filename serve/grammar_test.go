package serve

import (
	"regexp"
	"strings"
	"testing"
)

// The grammars router.go writes out, as the regular expressions they
// replace (too large to compile at every start; fine in a test).
var (
	uploadGrammar = regexp.MustCompile(`^[a-zA-Z0-9_=-][a-zA-Z0-9._=-]{0,127}$`)
	nsGrammar     = regexp.MustCompile(`^[a-zA-Z0-9.-]{1,253}(?::[0-9]{1,5})?$`)
)

func FuzzGrammars(f *testing.F) {
	for _, s := range []string{"", "abc-123=", ".x", "docker.io", "localhost:5000", "a:", "a:123456", "ghcr.io:443", strings.Repeat("a", 254), "a b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validUploadID(s), uploadGrammar.MatchString(s); got != want {
			t.Errorf("validUploadID(%q) = %v, the grammar says %v", s, got, want)
		}
		if got, want := validNS(s), nsGrammar.MatchString(s); got != want {
			t.Errorf("validNS(%q) = %v, the grammar says %v", s, got, want)
		}
	})
}
