package publish

import (
	"errors"
	"testing"

	"github.com/tailor-dev/tailor/catalog"
)

func TestParseTag(t *testing.T) {
	for _, tc := range []struct {
		tag, want string
		err       error
	}{
		{"generic", "generic", nil},
		{"cpu-skylake", "cpu=skylake", nil},
		{"cpu-skylake_avx512", "cpu=skylake_avx512", nil},
		{"cpu_broadwell-nvcap_52", "cpu=broadwell,cuda=sm_52", nil},
		{"cpu_haswell", "cpu=haswell", nil},
		{"cpu_zen3-nvcap_86", "cpu=zen3,cuda=sm_86", nil},
		{"nvcap_90", "cuda=sm_90", nil},
		{"1.2-x86-64-v3", "cpu=x86_64_v3", nil},
		{"x86-64-v4", "cpu=x86_64_v4", nil},
		{"2024.1-rc1-x86-64-v2", "cpu=x86_64_v2", nil},
		{"cpu-pentium9000", "", catalog.ErrUnknownTarget},
		{"cpu_broadwell-nvcap_5", "", ErrNoConvention},
		{"latest", "", ErrNoConvention},
		{"1.2-x86-64-v5", "", ErrNoConvention},
		{"1.2", "", ErrNoConvention},
	} {
		r, err := ParseTag(tc.tag)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("ParseTag(%q) error = %v, want %v", tc.tag, err, tc.err)
			}
			continue
		}
		if err != nil || r.String() != tc.want {
			t.Errorf("ParseTag(%q) = %v, %v, want %s", tc.tag, r, err, tc.want)
		}
	}
}

func FuzzParseTag(f *testing.F) {
	for _, s := range []string{"generic", "cpu-skylake", "cpu_broadwell-nvcap_52", "1.2-x86-64-v3", "latest"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		r, err := ParseTag(tag)
		if err == nil {
			if verr := r.Validate(); verr != nil {
				t.Errorf("ParseTag(%q) = %v, which does not validate: %v", tag, r, verr)
			}
		}
	})
}
