package remote

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestParseLayoutRef(t *testing.T) {
	h := "sha256:" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		in   string
		want string // String() of the result; "" = error
		tag  string
	}{
		{"oci:dir", "oci:dir", ""},
		{"oci:/tmp/out:1.0", "oci:/tmp/out:1.0", "1.0"},
		{"oci:./rel/dir:latest", "oci:./rel/dir:latest", "latest"},
		{"oci:/tmp/out@" + h, "oci:/tmp/out@" + h, ""},
		{"oci:", "", ""},
		{"oci::tag", "", ""},
		{"oci:out:bad/tag", "", ""},
		{"oci:out@sha256:12", "", ""},
		{"oci:@" + h, "", ""},
		{"docker.io/library/x:1", "", ""},
	} {
		l, err := ParseLayoutRef(tc.in)
		if tc.want == "" {
			if !errors.Is(err, ErrBadReference) {
				t.Errorf("ParseLayoutRef(%q) = %v, %v; want ErrBadReference", tc.in, l, err)
			}
			continue
		}
		if err != nil || l.String() != tc.want || l.Tag != tc.tag {
			t.Errorf("ParseLayoutRef(%q) = %+v (%s), %v; want %s tag %q", tc.in, l, l, err, tc.want, tc.tag)
		}
	}
}

// platformIndex is an index of two random images for linux/amd64 and
// linux/arm64.
func platformIndex(t *testing.T) v1.ImageIndex {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		cf.OS, cf.Architecture = "linux", arch
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}

func TestGetLayout(t *testing.T) {
	ctx := context.Background()
	c := fastClient(t)
	idx := platformIndex(t)
	idxDigest, _ := idx.Digest()

	// As `tailor build --dest oci:DIR:1.0` writes it: the index is an
	// entry of index.json, named by a ref.name annotation.
	tagged := t.TempDir()
	p, err := layout.Write(tagged, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{AnnotationRefName: "1.0"})); err != nil {
		t.Fatal(err)
	}
	// As ggcr's layout.Write of an index leaves it: index.json is the index.
	whole := t.TempDir()
	if _, err := layout.Write(whole, idx); err != nil {
		t.Fatal(err)
	}

	for _, ref := range []string{"oci:" + tagged, "oci:" + tagged + ":1.0", "oci:" + tagged + "@" + idxDigest.String()} {
		m, err := c.Get(ctx, ref)
		if err != nil {
			t.Fatalf("Get(%s): %v", ref, err)
		}
		if m.Digest != idxDigest || !m.IsIndex() || m.Source != ref || m.Ref != nil {
			t.Errorf("Get(%s) = %s %s source %q ref %v; want the index %s", ref, m.Digest, m.MediaType, m.Source, m.Ref, idxDigest)
		}
		entries, err := m.IndexManifest()
		if err != nil || len(entries.Manifests) != 2 {
			t.Fatalf("Get(%s) entries: %v, %v", ref, entries, err)
		}
		// The entries' images and configs are read from the layout.
		img, err := c.Image(ctx, m, entries.Manifests[1].Digest)
		if err != nil {
			t.Fatalf("Image: %v", err)
		}
		if d, _ := img.Digest(); d != entries.Manifests[1].Digest {
			t.Errorf("Image digest %s, want %s", d, entries.Manifests[1].Digest)
		}
		im, err := c.Get(ctx, "oci:"+tagged+"@"+entries.Manifests[1].Digest.String())
		if err != nil {
			t.Fatal(err)
		}
		cf, err := c.Config(ctx, im)
		if err != nil || cf.Architecture != "arm64" {
			t.Errorf("Config: %+v, %v", cf, err)
		}
	}

	m, err := c.Get(ctx, "oci:"+whole)
	if err != nil {
		t.Fatalf("Get(whole): %v", err)
	}
	if !m.IsIndex() || m.Source != "oci:"+whole {
		t.Fatalf("Get(whole) = %s %s", m.MediaType, m.Source)
	}
	im, _ := m.IndexManifest()
	if len(im.Manifests) != 2 || im.Manifests[0].Digest != mustManifests(t, idx)[0].Digest {
		t.Errorf("Get(whole) entries = %v; want the index's", im.Manifests)
	}
}

func mustManifests(t *testing.T, idx v1.ImageIndex) []v1.Descriptor {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	return im.Manifests
}

func TestGetLayoutErrors(t *testing.T) {
	ctx := context.Background()
	c := fastClient(t)
	idx := platformIndex(t)

	two := t.TempDir()
	p, err := layout.Write(two, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"a", "b"} {
		if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{AnnotationRefName: tag})); err != nil {
			t.Fatal(err)
		}
	}
	corrupt := t.TempDir()
	if _, err := layout.Write(corrupt, empty.Index); err != nil {
		t.Fatal(err)
	}
	cp, _ := layout.FromPath(corrupt)
	if err := cp.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	d, _ := idx.Digest()
	if err := os.WriteFile(filepath.Join(corrupt, "blobs", "sha256", d.Hex), []byte(`{"schemaVersion":2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	empt := t.TempDir()
	if _, err := layout.Write(empt, empty.Index); err != nil {
		t.Fatal(err)
	}
	missing := "sha256:" + strings.Repeat("0", 64)

	for _, tc := range []struct {
		ref  string
		want error
		text string
	}{
		{"oci:" + two, ErrBadReference, "tags: a, b"},
		{"oci:" + two + ":c", ErrNotFound, `no image tagged "c"`},
		{"oci:" + t.TempDir(), ErrNotFound, "no index.json"},
		{"oci:" + empt, ErrNotFound, "empty"},
		{"oci:" + corrupt, ErrBadManifest, "corrupt"},
		{"oci:" + two + "@" + missing, ErrNotFound, "no blob"},
	} {
		_, err := c.Get(ctx, tc.ref)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("Get(%s) = %v; want %v saying %q", tc.ref, err, tc.want, tc.text)
		}
	}
}

func TestValidTag(t *testing.T) {
	for tag, want := range map[string]bool{
		"1.0": true, "latest": true, "_x": true, "A-b_c.d": true, strings.Repeat("a", 128): true,
		"": false, ".x": false, "-x": false, "a/b": false, "a:b": false, "v1%3Fx": false, "a b": false,
		"a\x00": false, strings.Repeat("a", 129): false, "ü": false,
	} {
		if got := ValidTag(tag); got != want {
			t.Errorf("ValidTag(%q) = %v, want %v", tag, got, want)
		}
	}
}

func FuzzValidTag(f *testing.F) {
	for _, s := range []string{"1.0", ".x", "a/b", strings.Repeat("a", 129)} {
		f.Add(s)
	}
	re := regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidTag(s), re.MatchString(s); got != want {
			t.Errorf("ValidTag(%q) = %v, the spec's grammar says %v", s, got, want)
		}
	})
}
