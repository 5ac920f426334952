package platformmatch

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/containerd/platforms"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/requirement"
)

func TestComparer(t *testing.T) {
	m, err := Comparer(mustProfile(t, "cpu=haswell"))
	if err != nil {
		t.Fatal(err)
	}
	for want, specs := range map[bool][]string{
		true:  {"linux/amd64", "linux/amd64/v1", "linux/amd64/v2", "linux/amd64/v3", "linux/x86_64"},
		false: {"linux/amd64/v4", "linux/arm64", "windows/amd64", "linux/amd64/v9"},
	} {
		for _, s := range specs {
			p, err := platforms.Parse(s)
			if err != nil {
				t.Fatalf("platforms.Parse(%q): %v", s, err)
			}
			if got := m.Match(p); got != want {
				t.Errorf("Comparer(haswell).Match(%s) = %v, want %v", s, got, want)
			}
		}
	}
	list := []ocispec.Platform{
		{OS: "linux", Architecture: "arm64"},
		{OS: "linux", Architecture: "amd64"},
		{OS: "linux", Architecture: "amd64", Variant: "v4"},
		{OS: "linux", Architecture: "amd64", Variant: "v3"},
		{OS: "linux", Architecture: "amd64", Variant: "v2"},
	}
	slices.SortStableFunc(list, func(a, b ocispec.Platform) int {
		if m.Less(a, b) {
			return -1
		}
		if m.Less(b, a) {
			return 1
		}
		return 0
	})
	var got []string
	for _, p := range list {
		got = append(got, platforms.Format(p))
	}
	want := []string{"linux/amd64/v3", "linux/amd64/v2", "linux/amd64", "linux/arm64", "linux/amd64/v4"}
	if !slices.Equal(got, want) {
		t.Errorf("sorted by Comparer(haswell).Less = %v, want %v", got, want)
	}
	if _, err := Comparer(nil); err == nil {
		t.Error("Comparer(nil): no error")
	}
}

func TestDescriptorComparer(t *testing.T) {
	children := []ocispec.Descriptor{
		ociDescriptor("generic", "linux/amd64", ""),
		ociDescriptor("zen4", "linux/amd64", "cpu.target=zen4"),
		ociDescriptor("haswell", "linux/amd64", "cpu.target=haswell"),
		ociDescriptor("arm", "linux/arm64", ""),
	}
	c, err := NewDescriptorComparer(children, mustProfile(t, "cpu=skylake"))
	if err != nil {
		t.Fatal(err)
	}
	best, err := c.Best()
	if err != nil || best.Digest != children[2].Digest {
		t.Errorf("Best() = %s, %v, want the haswell child %s", best.Digest, err, children[2].Digest)
	}
	for i, want := range []bool{true, false, true, false} {
		if got := c.Match(children[i]); got != want {
			t.Errorf("Match(child %d) = %v, want %v", i, got, want)
		}
	}
	if c.Match(ociDescriptor("stranger", "linux/amd64", "")) {
		t.Error("Match(a descriptor not among the children) = true")
	}
	if !c.Less(children[2], children[0]) || c.Less(children[0], children[2]) || !c.Less(children[0], children[1]) || c.Less(children[1], children[3]) {
		t.Error("Less does not follow Match's ranking")
	}
	if got := len(c.Candidates()); got != 4 {
		t.Errorf("Candidates() has %d, want 4", got)
	}

	// The same digest listed as generic and as zen4: conservative, it does not match.
	dup := []ocispec.Descriptor{ociDescriptor("x", "linux/amd64", ""), ociDescriptor("x", "linux/amd64", "cpu.target=zen4")}
	c, err = NewDescriptorComparer(dup, mustProfile(t, "cpu=skylake"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Match(dup[0]) {
		t.Error("Match(digest listed once fitting, once not) = true, want false")
	}

	c, err = NewDescriptorComparer(children[1:2], mustProfile(t, "cpu=skylake"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Best(); !errors.Is(err, match.ErrNoMatch) {
		t.Errorf("Best() with nothing fitting: error %v, want ErrNoMatch", err)
	}
}

// ociDescriptor builds an index child: plat is "os/arch[/variant]"; ann
// is "k=v;k=v" with the dev.tailor. prefix added to short keys.
func ociDescriptor(seed, plat, ann string) ocispec.Descriptor {
	d := ocispec.Descriptor{
		MediaType: ocispec.MediaTypeImageManifest,
		Size:      int64(len(seed)),
		Digest:    digest.FromString(seed),
	}
	parts := strings.SplitN(plat, "/", 3)
	d.Platform = &ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		d.Platform.Variant = parts[2]
	}
	if ann != "" {
		d.Annotations = map[string]string{}
		for _, kv := range strings.Split(ann, ";") {
			k, v, _ := strings.Cut(kv, "=")
			d.Annotations[requirement.AnnotationPrefix+k] = v
		}
	}
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
