package serve

import (
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// VariantIndex is the five-entry index of the internal tests (generic,
// haswell, skylake_avx512 on amd64; generic, neoverse_v2 on arm64), for the
// external tests.
func VariantIndex(t testing.TB) v1.ImageIndex { return variantIndex(t, testVariants) }
