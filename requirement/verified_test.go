package requirement

import (
	"errors"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestVerified(t *testing.T) {
	amd64 := &v1.Platform{OS: "linux", Architecture: "amd64"}
	cases := []struct {
		ann     map[string]string
		ok      bool
		verdict string
		needs   string
		known   bool
		err     bool
	}{
		{nil, false, "", "generic", false, false},
		{map[string]string{AnnotationVerified: "ok"}, true, "ok", "generic", true, false},
		{map[string]string{AnnotationVerified: "mislabeled", AnnotationVerifiedNeeds: "cpu=x86_64_v3,features=avx512f"}, true, "mislabeled", "cpu=x86_64_v3,features=avx512f", true, false},
		{map[string]string{AnnotationVerified: "mislabeled"}, true, "mislabeled", "generic", false, false},
		{map[string]string{AnnotationVerified: "mislabeled", AnnotationVerifiedNeeds: "cuda=sm_90"}, true, "mislabeled", "cuda=sm_90", true, false},
		{map[string]string{AnnotationVerified: "fine"}, false, "", "", false, true},
		{map[string]string{AnnotationVerifiedNeeds: "cpu=x86_64_v3"}, false, "", "", false, true},
		{map[string]string{AnnotationVerified: "ok", AnnotationVerifiedNeeds: "cpu=zen9"}, false, "", "", false, true},
		{map[string]string{AnnotationVerified: "ok", AnnotationVerifiedNeeds: "cpu=neoverse_n1"}, false, "", "", false, true},
	}
	for _, c := range cases {
		v, ok, err := Verified(v1.Descriptor{Platform: amd64, Annotations: c.ann})
		if (err != nil) != c.err || err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("%v: err = %v", c.ann, err)
			continue
		}
		if err != nil {
			continue
		}
		if ok != c.ok || v.Verdict != c.verdict || v.Needs.String() != c.needs || v.Known != c.known {
			t.Errorf("%v: %+v %v; want verdict %q needs %q known %v", c.ann, v, ok, c.verdict, c.needs, c.known)
		}
		if ok {
			back, _, err := Verified(v1.Descriptor{Platform: amd64, Annotations: v.Annotations()})
			if err != nil || back.Needs.String() != v.Needs.String() || back.Known != v.Known {
				t.Errorf("%v: round trip %+v, %v", c.ann, back, err)
			}
		}
	}
}

// TestVerifiedKeepsDeclarations: recorded verdicts do not hide what the
// entry declares by its variant or MetaHub features.
func TestVerifiedKeepsDeclarations(t *testing.T) {
	rec := map[string]string{AnnotationVerified: "ok"}
	r, err := FromDescriptor(v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64", Variant: "v3"}, Annotations: rec})
	if err != nil || r.Target != "x86_64_v3" || r.Source != SourceVariant {
		t.Errorf("variant with a verdict: %+v, %v", r, err)
	}
	r, err = FromDescriptor(v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64", Features: []string{"cpu:skylake"}}, Annotations: rec})
	if err != nil || r.Target != "skylake" {
		t.Errorf("MetaHub features with a verdict: %+v, %v", r, err)
	}
}
