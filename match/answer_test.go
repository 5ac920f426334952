package match

import (
	"errors"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestCopiedAnswerMatched: the one entry of a copied tailored answer
// (platform plain amd64) is matched by the needs its marks carry: with
// dev.tailor.cpu.target as answers now write it, and with only the
// selection mark as older answers carry it; a haswell host gets no
// match, an x86_64_v4 host gets the entry.
func TestCopiedAnswerMatched(t *testing.T) {
	for name, ann := range map[string]string{
		"needs on the entry":  "cpu.target=x86_64_v4;selected.target=x86_64_v4",
		"selection mark only": "selected.target=x86_64_v4",
	} {
		entries := []v1.Descriptor{desc("v4", "linux/amd64", ann)}
		if _, _, err := Best(entries, mustProfile(t, "cpu=haswell")); !errors.Is(err, ErrNoMatch) {
			t.Errorf("%s: a haswell host: %v, want no match", name, err)
		}
		if best, _, err := Best(entries, mustProfile(t, "cpu=x86_64_v4")); err != nil || !best.Fits {
			t.Errorf("%s: an x86_64_v4 host: %v, want the entry", name, err)
		}
	}
}
