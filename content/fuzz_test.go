package content

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseDigest: whatever the input, a digest ParseDigest accepts maps
// to a file directly inside <root>/<algorithm>/, and formats back to the
// input.
func FuzzParseDigest(f *testing.F) {
	for _, s := range []string{
		"sha256:" + strings.Repeat("0", 64), "sha512:" + strings.Repeat("f", 128),
		"sha256:../x", "sha256:" + strings.Repeat("A", 64), "sha256:/etc/passwd", "", ":", "sha256",
		"sha256:" + strings.Repeat("0", 63) + "\x00",
	} {
		f.Add(s)
	}
	s := &Store{root: "/root"}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := ParseDigest(in)
		if err != nil {
			return
		}
		if string(d) != in {
			t.Fatalf("ParseDigest(%q) = %q", in, d)
		}
		p := s.path(d)
		dir := filepath.Join("/root", string(d.Algorithm()))
		if filepath.Dir(p) != dir || filepath.Base(p) != d.Encoded() || strings.ContainsAny(d.Encoded(), "/.\\\x00") {
			t.Fatalf("ParseDigest(%q) maps to %q, not a file in %s", in, p, dir)
		}
	})
}
