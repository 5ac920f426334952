package detect

import (
	"context"

	"github.com/tailor-dev/tailor/gpu"
	"github.com/tailor-dev/tailor/profile"
)

// defaultGPUDetector is the GPU detection Host uses when WithGPUDetector is
// not given: gpu.Detect with its defaults.
var defaultGPUDetector GPUDetector = func(ctx context.Context) ([]profile.GPU, error) {
	return gpu.Detect(ctx)
}
