// Command genindex writes the large test indexes of the resolve
// benchmarks (bench/resolve.sh): an OCI index of N tiny images, each a
// build for one of a cycle of CPU targets (dev.tailor.* annotations, as
// tailor publishes them), into an OCI layout under a tag, or pushed to a
// registry.
//
//	genindex -n 10000 -layout DIR -tag 1
//	genindex -n 64 -push 127.0.0.1:18010/app:1
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

// targets are the entries' CPU targets, in turn ("" generic).
var targets = []struct{ arch, target string }{
	{"amd64", ""}, {"amd64", "x86_64_v2"}, {"amd64", "x86_64_v3"}, {"amd64", "x86_64_v4"},
	{"amd64", "haswell"}, {"amd64", "skylake_avx512"}, {"amd64", "icelake"}, {"amd64", "zen2"},
	{"amd64", "zen3"}, {"amd64", "zen4"}, {"arm64", ""}, {"arm64", "neoverse_v2"},
}

func main() {
	n := flag.Int("n", 64, "entries")
	dir := flag.String("layout", "", "write an OCI layout here")
	tag := flag.String("tag", "1", "the index's tag in the layout")
	push := flag.String("push", "", "push the index to this reference instead")
	flag.Parse()
	if err := run(*n, *dir, *tag, *push); err != nil {
		fmt.Fprintln(os.Stderr, "genindex:", err)
		os.Exit(1)
	}
}

func run(n int, dir, tag, push string) error {
	vs := make([]resolvetest.Variant, n)
	for i := range vs {
		t := targets[i%len(targets)]
		vs[i] = resolvetest.Variant{Name: fmt.Sprintf("e%d-%s-%s", i, t.arch, t.target), Arch: t.arch,
			Reqs: requirement.Requirements{Target: t.target}}
	}
	if push != "" {
		_, err := resolvetest.Push(push, vs)
		return err
	}
	if dir == "" {
		return fmt.Errorf("want -layout DIR or -push REF")
	}
	return writeLayout(dir, tag, vs)
}

// writeLayout writes the layout directly (ggcr's mutate rebuilds the
// index at every append: quadratic in n): every entry a manifest of its
// own (its annotation names it) over one shared config and no layers.
func writeLayout(dir, tag string, vs []resolvetest.Variant) error {
	put := func(b []byte) (v1.Hash, error) {
		h, _, err := v1.SHA256(bytes.NewReader(b))
		if err != nil {
			return h, err
		}
		p := filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return h, err
		}
		return h, os.WriteFile(p, b, 0o644)
	}
	cfgs := map[string]v1.Descriptor{}
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for _, v := range vs {
		cfg, ok := cfgs[v.Arch]
		if !ok {
			b, err := json.Marshal(v1.ConfigFile{OS: "linux", Architecture: v.Arch, RootFS: v1.RootFS{Type: "layers"}})
			if err != nil {
				return err
			}
			h, err := put(b)
			if err != nil {
				return err
			}
			cfg = v1.Descriptor{MediaType: types.OCIConfigJSON, Digest: h, Size: int64(len(b))}
			cfgs[v.Arch] = cfg
		}
		b, err := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: cfg,
			Layers: []v1.Descriptor{}, Annotations: map[string]string{"org.example.entry": v.Name}})
		if err != nil {
			return err
		}
		h, err := put(b)
		if err != nil {
			return err
		}
		p := v.Reqs.Platform("linux", v.Arch)
		ann := v.Reqs.Annotations()
		if len(ann) == 0 {
			ann = nil
		}
		idx.Manifests = append(idx.Manifests, v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: h, Size: int64(len(b)), Platform: &p, Annotations: ann})
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	h, err := put(b)
	if err != nil {
		return err
	}
	top, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{{
		MediaType: types.OCIImageIndex, Digest: h, Size: int64(len(b)), Annotations: map[string]string{remote.AnnotationRefName: tag}}}})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "index.json"), top, 0o644)
}
