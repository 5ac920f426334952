package match

import (
	"strings"
	"testing"
)

func TestCheckOptions(t *testing.T) {
	for _, tc := range []struct {
		opt  Option
		want string // "" = accepted
	}{
		{WithAvoid("avx512f", "haswell", "x86-64-v3"), ""},
		{WithPrefer("target:zen4", "feature:amx_fp16"), ""},
		{WithAvoid("avx513"), "did you mean avx512"},
		{WithAvoid("haswel"), "did you mean haswell"},
		{WithAvoid("bogusname"), "neither a target nor a CPU feature"},
		{WithPrefer("target:zen33"), "did you mean zen3"},
		{WithPrefer("feature:AVX 2"), "lower-case"},
		{WithPrefer("cpu:zen3"), "want NAME, target:NAME or feature:NAME"},
		{WithAvoid(""), "empty name"},
	} {
		err := CheckOptions(tc.opt)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckOptions: %v, want none", err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckOptions = %v, want an error saying %q", err, tc.want)
		}
	}
}
