package detect

import (
	"context"

	"github.com/tailor-dev/tailor/profile"
)

// defaultGPUDetector is the GPU detection Host uses when WithGPUDetector is
// not given.
var defaultGPUDetector GPUDetector = func(context.Context) ([]profile.GPU, error) { return nil, nil }
