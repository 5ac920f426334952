package publish_test

import (
	"errors"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/publish"
	"github.com/tailor-dev/tailor/serve"
)

// TestTailoredAnnotationIsServes: publish recognises the annotation serve
// writes (the two packages share no import, so this pins them together).
func TestTailoredAnnotationIsServes(t *testing.T) {
	m := &v1.IndexManifest{SchemaVersion: 2, Annotations: map[string]string{serve.AnnotationSourceIndex: "sha256:x"}}
	if _, err := publish.Annotate(m, "sha256:0", publish.Entry{}.Requirements); !errors.Is(err, publish.ErrTailoredIndex) {
		t.Errorf("Annotate(index with %s) = %v, want ErrTailoredIndex", serve.AnnotationSourceIndex, err)
	}
}
