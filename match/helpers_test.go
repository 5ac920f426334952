package match

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/requirement"
)

// desc builds an index entry: plat is "os/arch[/variant]" or "" for none;
// ann is "k=v;k=v" with the dev.tailor. prefix added to short keys
// (cpu.target=haswell).
func desc(seed, plat, ann string) v1.Descriptor {
	sum := sha256.Sum256([]byte(seed))
	d := v1.Descriptor{
		MediaType: "application/vnd.oci.image.manifest.v1+json",
		Size:      int64(len(seed)),
		Digest:    v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])},
	}
	if plat != "" {
		parts := strings.SplitN(plat, "/", 3)
		d.Platform = &v1.Platform{OS: parts[0], Architecture: parts[1]}
		if len(parts) == 3 {
			d.Platform.Variant = parts[2]
		}
	}
	if ann != "" {
		d.Annotations = map[string]string{}
		for _, kv := range strings.Split(ann, ";") {
			k, v, _ := strings.Cut(kv, "=")
			if !strings.Contains(k, "vnd.") {
				k = requirement.AnnotationPrefix + k
			}
			d.Annotations[k] = v
		}
	}
	return d
}

// withFeatures sets MetaHub-style platform.features.
func withFeatures(d v1.Descriptor, fs ...string) v1.Descriptor {
	d.Platform.Features = fs
	return d
}

func mustProfile(t testing.TB, spec string) *profile.Profile {
	t.Helper()
	p, err := profile.ParseSpec(spec)
	if err != nil {
		t.Fatalf("ParseSpec(%q): %v", spec, err)
	}
	return p
}

// order is the Index of each candidate, in the order Match returned them.
func order(cands []Candidate) []int {
	out := make([]int, len(cands))
	for i, c := range cands {
		out[i] = c.Index
	}
	return out
}

// fitting is the Index of each fitting candidate, best first.
func fitting(cands []Candidate) []int {
	var out []int
	for _, c := range cands {
		if c.Fits {
			out = append(out, c.Index)
		}
	}
	return out
}

// details joins every check's detail, for messages and substring checks.
func details(c Candidate) string {
	var s []string
	for _, ch := range c.Checks {
		mark := "ok"
		if !ch.OK {
			mark = "FAIL"
		}
		s = append(s, ch.Requirement+" "+mark+": "+ch.Detail)
	}
	return strings.Join(s, " | ")
}

func failedDetails(c Candidate) string {
	var s []string
	for _, ch := range c.Failed() {
		s = append(s, ch.Detail)
	}
	return strings.Join(s, "; ")
}

// parseHost is profile.ParseSpec for the fuzzer.
func parseHost(spec string) (*profile.Profile, error) { return profile.ParseSpec(spec) }
