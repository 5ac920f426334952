package requirement

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestAnswerMarksAreNeeds: the entry of a tailored answer (platform plain
// os/arch) needs the target its selection mark names when it carries no
// dev.tailor.cpu.target, so every selection path reading it keeps a copy
// of the answer off hosts that cannot run it.
func TestAnswerMarksAreNeeds(t *testing.T) {
	amd64 := &v1.Platform{OS: "linux", Architecture: "amd64"}
	for name, c := range map[string]struct {
		ann  map[string]string
		want string
	}{
		"selection mark only":   {map[string]string{AnnotationSelectedTarget: "x86_64_v4"}, "x86_64_v4"},
		"cpu target wins":       {map[string]string{AnnotationSelectedTarget: "x86_64_v4", AnnotationCPUTarget: "icelake"}, "icelake"},
		"generic selection":     {map[string]string{AnnotationSelectedTarget: "generic"}, ""},
		"no marks, plain entry": {nil, ""},
	} {
		r, err := FromDescriptor(v1.Descriptor{Platform: amd64, Annotations: c.ann})
		if err != nil || r.Target != c.want {
			t.Errorf("%s: target %q, %v; want %q", name, r.Target, err, c.want)
		}
	}
}
