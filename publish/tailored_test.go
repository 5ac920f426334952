package publish

import (
	"errors"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/requirement"
)

// TestRefuseTailored: an index a tailor server cut down for one client
// (it carries dev.tailor.source.index) is refused by Annotate and NewIndex
// with an error that says why and what to do.
func TestRefuseTailored(t *testing.T) {
	idx, err := NewIndex([]Entry{entry(t, "generic", "amd64", ""), entry(t, "v3", "amd64", "cpu=x86_64_v3")})
	if err != nil {
		t.Fatal(err)
	}
	m := idx.Manifest
	m.Annotations = map[string]string{requirement.AnnotationSourceIndex: "sha256:" + strings.Repeat("a", 64)}
	r, _ := requirement.ParseShort("cpu=haswell")
	_, err = Annotate(&m, m.Manifests[1].Digest.Hex[:8], r)
	if !errors.Is(err, ErrTailoredIndex) || !strings.Contains(err.Error(), "Tailor-Profile: none") {
		t.Errorf("Annotate(tailored index) = %v, want ErrTailoredIndex naming the untailored view", err)
	}
	_, err = NewIndex([]Entry{entry(t, "generic", "amd64", "")}, WithAnnotations(m.Annotations))
	if !errors.Is(err, ErrTailoredIndex) {
		t.Errorf("NewIndex(with %s) = %v, want ErrTailoredIndex", requirement.AnnotationSourceIndex, err)
	}
}
