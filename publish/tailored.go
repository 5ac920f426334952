package publish

import (
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/requirement"
)

// ErrTailoredIndex is returned (wrapped) for an index that is a tailoring
// server's answer to one client, not a published index: publishing it
// would drop every entry that client did not get.
var ErrTailoredIndex = errors.New("a tailored answer, not a published index")

// checkNotTailored refuses m when a tailor server made it for one client.
func checkNotTailored(m *v1.IndexManifest) error {
	src, ok := m.Annotations[requirement.AnnotationSourceIndex]
	if !ok {
		return nil
	}
	return fmt.Errorf("%w: the index carries %s=%s, so a tailor server cut it down to one entry per architecture for one client; "+
		"publishing it would drop the other entries. Read the index from the registry itself, or from the tailor server's untailored view "+
		"(header Tailor-Profile: none, which tailor sends by default; path /v2/_p/none/; login none)", ErrTailoredIndex, requirement.AnnotationSourceIndex, src)
}
