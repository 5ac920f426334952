package publish

import (
	"errors"
	"strings"
	"testing"
)

func TestParseMetaHub(t *testing.T) {
	m, err := ParseMetaHub([]byte(`
image: reg/app:latest
manifests:
  - image: reg/app:generic
    platform: {architecture: amd64, os: linux}
  - image: reg/app:cpu_broadwell-nvcap_52
    platform:
      architecture: amd64
      os: linux
      features: [cpu:broadwell, nvcap:5.2]
`))
	if err != nil {
		t.Fatal(err)
	}
	if m.Image != "reg/app:latest" || len(m.Manifests) != 2 {
		t.Fatalf("ParseMetaHub = %+v", m)
	}
	r, err := m.Manifests[1].Requirements()
	if err != nil || r.String() != "cpu=broadwell,cuda=sm_52" {
		t.Errorf("Requirements() = %v, %v", r, err)
	}
	for name, tc := range map[string]struct{ yaml, says string }{
		"unknown field":  {"image: a\nmanifests:\n  - image: b\n    platfrom: {}\n", "platfrom"},
		"not yaml":       {"image: [\n", "invalid manifest file"},
		"no manifests":   {"image: a\n", "no manifests"},
		"no image":       {"manifests:\n  - platform: {os: linux}\n", "has no image"},
		"unknown target": {"manifests:\n  - image: b\n    platform: {os: linux, architecture: amd64, features: [cpu:pentium9000]}\n", "pentium9000"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseMetaHub([]byte(tc.yaml))
			if !errors.Is(err, ErrManifestFile) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("ParseMetaHub: %v, want ErrManifestFile saying %q", err, tc.says)
			}
		})
	}
}
