package publish

import (
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/requirement"
)

func entry(t *testing.T, name, arch, reqs string) Entry {
	t.Helper()
	r, err := requirement.ParseShort(reqs)
	if err != nil {
		t.Fatalf("ParseShort(%q): %v", reqs, err)
	}
	h, _, _ := v1.SHA256(strings.NewReader(name))
	return Entry{
		Name:         name,
		Descriptor:   v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: 100, Digest: h, Platform: &v1.Platform{OS: "linux", Architecture: arch}},
		Requirements: r,
	}
}

func TestNewIndexOrderAndPlatform(t *testing.T) {
	in := []Entry{
		entry(t, "skx", "amd64", "cpu=skylake_avx512,cuda=sm_90+sm_80"),
		entry(t, "v3", "amd64", "cpu=x86_64_v3"),
		entry(t, "generic", "amd64", ""),
		entry(t, "arm", "arm64", "generic"),
		entry(t, "zen4", "amd64", "cpu=zen4"),
	}
	idx, err := NewIndex(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ name, variant, target string }{
		{"generic", "", ""}, {"arm", "", ""}, {"skx", "", "skylake_avx512"}, {"v3", "v3", "x86_64_v3"}, {"zen4", "", "zen4"},
	}
	for i, w := range want {
		d := idx.Manifest.Manifests[i]
		if d.Digest != entry(t, w.name, "", "").Descriptor.Digest {
			t.Errorf("entry %d is %s, want %s", i, d.Digest, w.name)
		}
		if d.Platform.Variant != w.variant {
			t.Errorf("entry %d (%s) variant %q, want %q", i, w.name, d.Platform.Variant, w.variant)
		}
		if got := d.Annotations[requirement.AnnotationCPUTarget]; got != w.target {
			t.Errorf("entry %d (%s) target %q, want %q", i, w.name, got, w.target)
		}
	}
	if got := idx.Manifest.Manifests[2].Annotations[requirement.AnnotationCUDAArch]; got != "sm_80,sm_90" {
		t.Errorf("cuda annotation %q, want sm_80,sm_90", got)
	}
	if in[0].Requirements.CUDA[0].String() != "sm_90" {
		t.Errorf("NewIndex changed the caller's entries")
	}
	again, _ := NewIndex(in)
	a, _ := idx.RawManifest()
	b, _ := again.RawManifest()
	if string(a) != string(b) {
		t.Errorf("NewIndex is not deterministic")
	}
	if idx.Digest() != mustDigest(a) {
		t.Errorf("Digest() disagrees with the bytes")
	}
	if !strings.Contains(string(a), `"mediaType": "application/vnd.oci.image.index.v1+json"`) {
		t.Errorf("index is not an OCI index:\n%s", a)
	}
}

func mustDigest(b []byte) v1.Hash {
	h, _, _ := v1.SHA256(strings.NewReader(string(b)))
	return h
}

func TestNewIndexRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		entries []Entry
		want    error
		says    string
	}{
		"two generic":            {[]Entry{entry(t, "a", "amd64", ""), entry(t, "b", "amd64", "")}, ErrIndistinguishable, `"a" and "b"`},
		"same target":            {[]Entry{entry(t, "a", "amd64", "cpu=haswell"), entry(t, "b", "amd64", "cpu=haswell")}, ErrIndistinguishable, "haswell"},
		"root target is generic": {[]Entry{entry(t, "a", "amd64", ""), entry(t, "b", "amd64", "cpu=x86_64")}, ErrIndistinguishable, `"a" and "b"`},
		"wrong arch":             {[]Entry{entry(t, "a", "arm64", "cpu=zen4")}, ErrInvalidEntry, "zen4 is for amd64"},
		"none":                   {nil, ErrInvalidEntry, "at least one"},
		"index entry":            {[]Entry{{Name: "x", Descriptor: v1.Descriptor{MediaType: types.OCIImageIndex, Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}}}, ErrInvalidEntry, "want an image manifest"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewIndex(tc.entries)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("NewIndex: %v, want %v saying %q", err, tc.want, tc.says)
			}
		})
	}
	// Same requirements on two architectures are fine.
	if _, err := NewIndex([]Entry{entry(t, "a", "amd64", ""), entry(t, "b", "arm64", "")}); err != nil {
		t.Errorf("NewIndex(amd64+arm64 generic): %v", err)
	}
}

func TestAnnotate(t *testing.T) {
	idx, err := NewIndex([]Entry{entry(t, "generic", "amd64", ""), entry(t, "v3", "amd64", "cpu=x86_64_v3")})
	if err != nil {
		t.Fatal(err)
	}
	m := idx.Manifest
	m.Manifests[1].Annotations = map[string]string{"org.opencontainers.image.title": "keep", requirement.AnnotationCPUTarget: "x86_64_v3"}
	d := m.Manifests[1].Digest.Hex[:8]
	r, _ := requirement.ParseShort("cpu=haswell")
	got, err := Annotate(&m, d, r)
	if err != nil {
		t.Fatal(err)
	}
	e := got.Manifest.Manifests[1]
	if e.Annotations[requirement.AnnotationCPUTarget] != "haswell" || e.Platform.Variant != "" || e.Annotations["org.opencontainers.image.title"] != "keep" {
		t.Errorf("annotated entry = %+v %+v", e.Annotations, e.Platform)
	}
	if _, err := Annotate(&m, "sha256:ffff", r); err == nil || !strings.Contains(err.Error(), "no entry") {
		t.Errorf("Annotate(unknown digest) = %v", err)
	}
	// Making the second entry generic too leaves two entries no host can tell apart.
	if _, err := Annotate(&m, d, requirement.Requirements{}); !errors.Is(err, ErrIndistinguishable) {
		t.Errorf("Annotate(generic twice) = %v, want ErrIndistinguishable", err)
	}
}

// TestMetadata checks Metadata gives what NewIndex writes for each entry.
func TestMetadata(t *testing.T) {
	in := []Entry{
		entry(t, "generic", "amd64", "cpu=x86_64"),
		entry(t, "v3", "amd64", "cpu=x86_64_v3"),
		entry(t, "skx", "amd64", "cpu=skylake_avx512,cuda=sm_90+sm_80"),
		entry(t, "arm", "arm64", "cpu=aarch64"),
		entry(t, "v9", "arm64", "cpu=armv9.0a"),
		entry(t, "mpi", "amd64", "cpu=zen4,requires=mpi=openmpi"),
	}
	idx, err := NewIndex(in)
	if err != nil {
		t.Fatal(err)
	}
	byDigest := map[v1.Hash]v1.Descriptor{}
	for _, d := range idx.Manifest.Manifests {
		byDigest[d.Digest] = d
	}
	for _, e := range in {
		p, ann, err := Metadata(e.Requirements, "linux", e.Descriptor.Platform.Architecture)
		if err != nil {
			t.Fatalf("Metadata(%s): %v", e.Requirements, err)
		}
		d := byDigest[e.Descriptor.Digest]
		if !p.Equals(*d.Platform) {
			t.Errorf("Metadata(%s) platform %+v, NewIndex wrote %+v", e.Name, p, *d.Platform)
		}
		if len(ann) != len(d.Annotations) {
			t.Errorf("Metadata(%s) annotations %v, NewIndex wrote %v", e.Name, ann, d.Annotations)
		}
		for k, v := range ann {
			if d.Annotations[k] != v {
				t.Errorf("Metadata(%s) annotations %v, NewIndex wrote %v", e.Name, ann, d.Annotations)
			}
		}
	}
	if _, _, err := Metadata(requirement.Requirements{Target: "zen4"}, "linux", "arm64"); !errors.Is(err, ErrInvalidEntry) {
		t.Errorf("Metadata(zen4 on arm64) = %v, want ErrInvalidEntry", err)
	}
}
