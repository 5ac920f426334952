// Command upstream runs a distribution registry (the one of the tests) on
// loopback and pushes to it a multi-variant index of the example image:
// one entry per -variant TARGET=BINARY, each an image whose entrypoint is
// the binary (generic first when its TARGET is "generic"). It writes the
// registry's host:port to -addr-file and serves until killed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

type variants []string

func (v *variants) String() string     { return strings.Join(*v, ",") }
func (v *variants) Set(s string) error { *v = append(*v, s); return nil }

func main() {
	var vs variants
	dir := flag.String("dir", "", "storage directory")
	addrFile := flag.String("addr-file", "", "file to write host:port to")
	repo := flag.String("repo", "app:v1", "repository:tag to push the index to")
	roFile := flag.String("ro-file", "", "file to write the pushed tag and digests to, as OCI_RO_DATA_* shell variables")
	flag.Var(&vs, "variant", "TARGET=BINARY (repeatable)")
	flag.Parse()
	if err := run(*dir, *addrFile, *repo, *roFile, vs); err != nil {
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
}

func run(dir, addrFile, repo, roFile string, vs []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	host, shutdown, err := registrytest.Start(ctx, dir)
	if err != nil {
		return err
	}
	defer shutdown()
	idx, err := buildIndex(vs)
	if err != nil {
		return err
	}
	ref, err := name.ParseReference(host + "/" + repo)
	if err != nil {
		return err
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		return err
	}
	d, _ := idx.Digest()
	fmt.Printf("upstream %s: pushed %s (%s)\n", host, ref, d)
	if roFile != "" {
		if err := writeRO(roFile, ref, idx); err != nil {
			return err
		}
	}
	if err := os.WriteFile(addrFile, []byte(host), 0o644); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

func buildIndex(vs []string) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, v := range vs {
		target, bin, ok := strings.Cut(v, "=")
		if !ok {
			return nil, fmt.Errorf("variant %q: want TARGET=BINARY", v)
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			return nil, err
		}
		plat := v1.Platform{OS: "linux", Architecture: "amd64"}
		img, err := registrytest.NewImage(plat, map[string]string{"hello": string(data)})
		if err != nil {
			return nil, err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		cf = cf.DeepCopy()
		cf.Config.Entrypoint = []string{"/hello"}
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			return nil, err
		}
		img = mutate.ConfigMediaType(mutate.MediaType(img, types.OCIManifestSchema1), types.OCIConfigJSON)
		desc := v1.Descriptor{Platform: &plat}
		if target != "generic" {
			desc.Annotations = map[string]string{"dev.tailor.cpu.target": target}
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: desc})
	}
	return idx, nil
}

// writeRO writes the tag, manifest and blob digests of idx for the
// conformance suite's read-only (proxy) mode.
func writeRO(path string, ref name.Reference, idx v1.ImageIndex) error {
	d, _ := idx.Digest()
	manifests, blobs := []string{d.String()}, []string{}
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, e := range im.Manifests {
		manifests = append(manifests, e.Digest.String())
		img, err := idx.Image(e.Digest)
		if err != nil {
			return err
		}
		m, err := img.Manifest()
		if err != nil {
			return err
		}
		blobs = append(blobs, m.Config.Digest.String())
		for _, l := range m.Layers {
			blobs = append(blobs, l.Digest.String())
		}
	}
	tag := ref.Identifier()
	out := fmt.Sprintf("OCI_RO_DATA_TAGS=%q\nOCI_RO_DATA_MANIFESTS=%q\nOCI_RO_DATA_BLOBS=%q\n",
		tag, strings.Join(manifests, " "), strings.Join(blobs, " "))
	return os.WriteFile(path, []byte(out), 0o644)
}
