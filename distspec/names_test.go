package distspec

import (
	"regexp"
	"strings"
	"testing"
)

// The spec's grammars as regular expressions: the written-out checks
// must agree with them.
var (
	nameRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)
	tagRE  = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

func TestGrammar(t *testing.T) {
	for _, s := range []string{"a", "a/b", "a-b", "a--b", "a__b", "a___b", "a.b", "a..b", "-a", "a-", "A", "a/", "/a", "a//b",
		"library/ubuntu", "x_y.z-w/q", "v1", "_t", ".t", "t.", "T-1", strings.Repeat("a", 255), strings.Repeat("a", 256), strings.Repeat("t", 128), strings.Repeat("t", 129), "é"} {
		if got, want := ValidName(s), nameRE.MatchString(s) && len(s) <= MaxNameLen; got != want {
			t.Errorf("ValidName(%q) = %v, the spec says %v", s, got, want)
		}
		if got, want := ValidTag(s), tagRE.MatchString(s); got != want {
			t.Errorf("ValidTag(%q) = %v, the spec says %v", s, got, want)
		}
	}
}

func FuzzGrammar(f *testing.F) {
	for _, s := range []string{"a/b", "a__b", "v1.0-rc", "_x", "A/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidName(s), nameRE.MatchString(s) && len(s) <= MaxNameLen; got != want {
			t.Fatalf("ValidName(%q) = %v, the spec says %v", s, got, want)
		}
		if got, want := ValidTag(s), tagRE.MatchString(s); got != want {
			t.Fatalf("ValidTag(%q) = %v, the spec says %v", s, got, want)
		}
	})
}
