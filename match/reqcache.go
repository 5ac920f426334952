package match

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/requirement"
)

// reqCache reads entries' requirements.
type reqCache struct{}

func newReqCache() *reqCache { return &reqCache{} }

func (c *reqCache) get(d v1.Descriptor) (requirement.Requirements, error) {
	return requirement.FromDescriptor(d)
}
