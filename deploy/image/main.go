// Command image builds tailor's container image without a Docker engine,
// with the project's own registry code (go-containerregistry through
// tailor's remote.Client): tailor cross-compiled with CGO_ENABLED=0 for
// each platform, one layer on an empty base (the binary, a CA bundle for
// HTTPS upstreams, and Debian's glibc when the binary is dynamically
// linked, as NVML loading makes it: see libc.go), an OCI index over the
// platforms, pushed to a registry and/or written to an OCI layout. Layers and configs carry no timestamps,
// so the same sources and toolchain give the same digests.
//
//	go run ./deploy/image --push registry.example/tailor:v1
//	go run ./deploy/image --dest oci:/tmp/tailor-image --platforms linux/amd64
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/tailor-dev/tailor/remote"
)

// binDir is where the binary lives in the image, named as its package
// (/usr/local/bin/tailor for ./cmd/tailor).
const binDir = "/usr/local/bin/"

type options struct {
	push, dest, pkg, caBundle string
	platforms                 []string
	insecure                  []string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	o := options{}
	flag.StringVar(&o.push, "push", "", "push the index to this reference (registry/repo:tag)")
	flag.StringVar(&o.dest, "dest", "", "write the index to this OCI layout (oci:DIR)")
	flag.StringVar(&o.pkg, "package", "./cmd/tailor", "Go package of the binary")
	flag.StringVar(&o.caBundle, "ca-bundle", "/etc/ssl/certs/ca-certificates.crt", `CA certificates for HTTPS upstreams, put at the same path in the image ("none": no bundle)`)
	platforms := flag.String("platforms", "linux/amd64,linux/arm64", "platforms, comma-separated")
	insecure := flag.String("insecure-registry", "", "registry (host:port) reached over plain HTTP, comma-separated (loopback always is)")
	flag.Parse()
	o.platforms = strings.Split(*platforms, ",")
	if *insecure != "" {
		o.insecure = strings.Split(*insecure, ",")
	}
	d, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
	fmt.Println(d)
}

// run builds the index and pushes or writes it; it returns the index digest.
func run(ctx context.Context, o options) (v1.Hash, error) {
	if o.push == "" && o.dest == "" {
		return v1.Hash{}, errors.New("give --push REF, --dest oci:DIR or both")
	}
	idx, err := build(ctx, o)
	if err != nil {
		return v1.Hash{}, err
	}
	if o.dest != "" {
		if err := writeLayout(o.dest, idx); err != nil {
			return v1.Hash{}, err
		}
	}
	if o.push != "" {
		c, err := remote.New(remote.WithInsecure(o.insecure...))
		if err != nil {
			return v1.Hash{}, err
		}
		ref, err := c.ParseReference(o.push)
		if err != nil {
			return v1.Hash{}, err
		}
		if err := ggcr.WriteIndex(ref, idx, c.Options(ctx)...); err != nil {
			return v1.Hash{}, fmt.Errorf("push %s: %w", o.push, err)
		}
	}
	return idx.Digest()
}

// build cross-compiles the binary for every platform and assembles the index.
func build(ctx context.Context, o options) (v1.ImageIndex, error) {
	var ca []byte
	if o.caBundle != "none" {
		var err error
		if ca, err = os.ReadFile(o.caBundle); err != nil {
			return nil, fmt.Errorf("CA bundle (install ca-certificates, or --ca-bundle none): %w", err)
		}
	}
	work, err := os.MkdirTemp("", "tailor-image-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range o.platforms {
		plat, err := v1.ParsePlatform(strings.TrimSpace(p))
		if err != nil || plat.OS == "" || plat.Architecture == "" {
			return nil, fmt.Errorf("platform %q: want os/arch such as linux/arm64", p)
		}
		bin := filepath.Join(work, plat.OS+"-"+plat.Architecture, filepath.Base(o.pkg))
		if err := compile(ctx, o.pkg, *plat, bin); err != nil {
			return nil, err
		}
		img, err := image(*plat, bin, o.caBundle, ca)
		if err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: plat}})
	}
	return idx, nil
}

// compile builds pkg for plat without cgo, with NVML loaded at run time
// (-tags nvml: GPU nodes mount libnvidia-ml into the container), which
// makes the binary dynamically linked against the glibc the image carries.
func compile(ctx context.Context, pkg string, plat v1.Platform, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "nvml", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+plat.OS, "GOARCH="+plat.Architecture)
	if plat.Architecture == "arm" && plat.Variant != "" {
		cmd.Env = append(cmd.Env, "GOARM="+strings.TrimPrefix(plat.Variant, "v"))
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s for %s/%s: %w\n%s", pkg, plat.OS, plat.Architecture, err, stderr.String())
	}
	return nil
}

// image is the one-layer image of bin for plat.
func image(plat v1.Platform, bin, caPath string, ca []byte) (v1.Image, error) {
	exe, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	binPath := binDir + filepath.Base(bin)
	var files []file
	files = append(files, file{path: binPath, mode: 0o755, data: exe}, file{path: "/tmp/", mode: 0o1777})
	if ca != nil {
		files = append(files, file{path: caPath, mode: 0o644, data: ca})
	}
	libc, err := runtimeFiles(bin, plat.Architecture)
	if err != nil {
		return nil, err
	}
	files = append(files, libc...)
	layerTar, err := tarOf(files)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = plat.OS, plat.Architecture, plat.Variant
	cf.Config.Entrypoint = []string{binPath}
	cf.Config.Env = []string{"PATH=/usr/local/bin", "SSL_CERT_FILE=" + caPath}
	cf.Config.Labels = map[string]string{"org.opencontainers.image.source": "https://github.com/tailor-dev/tailor"}
	return mutate.ConfigFile(img, cf)
}

// file is one entry of the layer.
type file struct {
	path string
	mode int64
	data []byte
}

// tarOf writes files, with their parent directories, as a tar with no
// timestamps or owners (root), so the layer is reproducible.
func tarOf(files []file) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	dirs := map[string]bool{}
	for _, f := range files {
		name := strings.TrimPrefix(f.path, "/")
		parts := strings.Split(strings.TrimSuffix(name, "/"), "/")
		for i := 1; i < len(parts); i++ {
			d := strings.Join(parts[:i], "/") + "/"
			if !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, Format: tar.FormatPAX}); err != nil {
					return nil, err
				}
			}
		}
		if strings.HasSuffix(name, "/") {
			dirs[name] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: f.mode, Format: tar.FormatPAX}); err != nil {
				return nil, err
			}
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: f.mode, Size: int64(len(f.data)), Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeLayout writes idx to the OCI layout dest (oci:DIR): its index.json
// is the index.
func writeLayout(dest string, idx v1.ImageIndex) error {
	dir, ok := strings.CutPrefix(dest, "oci:")
	if !ok || dir == "" {
		return fmt.Errorf("--dest %q: want oci:DIR", dest)
	}
	if _, err := layout.Write(dir, idx); err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	return nil
}
