package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// stream is size pseudo-random bytes, the same for one seed.
func stream(seed byte, size int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{'p', 'u', 'l', 'l', seed}), size)
}

// pushBlob uploads size bytes of seed's stream and returns its descriptor.
func pushBlob(host, repo string, seed byte, size int64, mt types.MediaType) (v1.Descriptor, error) {
	h := sha256.New()
	if _, err := io.Copy(h, stream(seed, size)); err != nil {
		return v1.Descriptor{}, err
	}
	d := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}
	err := registrytest.PushBlob(context.Background(), host, repo, stream(seed, size), size, d.String())
	return v1.Descriptor{MediaType: mt, Size: size, Digest: d}, err
}

// putManifest PUTs body as ref's manifest and returns its descriptor.
func putManifest(host, repo, ref string, mt types.MediaType, body []byte) (v1.Descriptor, error) {
	req, _ := http.NewRequest(http.MethodPut, "http://"+host+"/v2/"+repo+"/manifests/"+ref, bytes.NewReader(body))
	req.Header.Set("Content-Type", string(mt))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return v1.Descriptor{}, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return v1.Descriptor{}, fmt.Errorf("PUT manifest %s: %s", ref, resp.Status)
	}
	d, _, _ := v1.SHA256(bytes.NewReader(body))
	return v1.Descriptor{MediaType: mt, Size: int64(len(body)), Digest: d}, nil
}

// pushImage pushes an image of layers layers of layerSize bytes each.
func pushImage(host, repo string, seed byte, layers int, layerSize int64) (v1.Descriptor, error) {
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}`)
	h, _, _ := v1.SHA256(bytes.NewReader(cfg))
	if err := registrytest.PushBlob(context.Background(), host, repo, bytes.NewReader(cfg), int64(len(cfg)), h.String()); err != nil {
		return v1.Descriptor{}, err
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(cfg)), Digest: h}}
	for i := range layers {
		l, err := pushBlob(host, repo, seed*16+byte(i), layerSize, types.OCILayer)
		if err != nil {
			return v1.Descriptor{}, err
		}
		m.Layers = append(m.Layers, l)
	}
	body, _ := json.Marshal(m)
	d, _, _ := v1.SHA256(bytes.NewReader(body))
	return putManifest(host, repo, d.String(), types.OCIManifestSchema1, body)
}

// pushIndex pushes repo:tag, an index of a small generic amd64 image and a
// haswell one of layers x layerSize bytes: through tailor serve with
// profile cpu=haswell a pull gets the big one, as a client of the
// registry that picks the haswell entry itself does.
func pushIndex(host, repo, tag string, layers int, layerSize int64) error {
	generic, err := pushImage(host, repo, 1, 1, 1<<20)
	if err != nil {
		return err
	}
	haswell, err := pushImage(host, repo, 2, layers, layerSize)
	if err != nil {
		return err
	}
	generic.Platform = &v1.Platform{OS: "linux", Architecture: "amd64"}
	haswell.Platform = &v1.Platform{OS: "linux", Architecture: "amd64"}
	haswell.Annotations = map[string]string{"dev.tailor.cpu.target": "haswell"}
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{generic, haswell}}
	body, _ := json.Marshal(idx)
	_, err = putManifest(host, repo, tag, types.OCIImageIndex, body)
	return err
}
