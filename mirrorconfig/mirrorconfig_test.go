package mirrorconfig

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	for _, c := range []struct {
		client  string
		o       Options
		want    []string
		wantErr bool
	}{
		{"containerd", Options{Server: "http://127.0.0.1:5000", Registries: []string{"docker.io"}},
			[]string{`server = "https://registry-1.docker.io"`, `[host."http://127.0.0.1:5000"]`, `capabilities = ["pull", "resolve"]`}, false},
		{"containerd", Options{Server: "http://127.0.0.1:5000", Registries: []string{"ghcr.io"}, Profile: "zen3"},
			[]string{`server = "https://ghcr.io"`, `[host."http://127.0.0.1:5000/v2/_p/zen3"]`, "override_path = true"}, false},
		{"docker", Options{Server: "http://10.0.0.1:5000", Registries: []string{"docker.io"}},
			[]string{`"registry-mirrors"`, `"http://10.0.0.1:5000"`, `"insecure-registries"`}, false},
		{"docker", Options{Server: "http://10.0.0.1:5000", Registries: []string{"ghcr.io"}}, nil, true},
		{"skopeo", Options{Server: "http://127.0.0.1:5000", Registries: []string{"docker.io"}},
			[]string{`prefix = "docker.io"`, "[[registry.mirror]]\nlocation = \"127.0.0.1:5000\"\ninsecure = true"}, false},
		{"podman", Options{Server: "https://m.example", Registries: []string{"docker.io", "quay.io"}},
			[]string{"[[registry.mirror]]\nlocation = \"m.example\"\n", "[[registry.mirror]]\nlocation = \"m.example/quay.io\"\n"}, false},
		{"containerd", Options{Server: "http://127.0.0.1:5000", Registries: []string{"127.0.0.1:5001=http://127.0.0.1:5001", "quay.io"}},
			[]string{"# /etc/containerd/certs.d/127.0.0.1:5001/hosts.toml\nserver = \"http://127.0.0.1:5001\"", `server = "https://quay.io"`}, false},
		{"containerd", Options{Server: "http://127.0.0.1:5000", Registries: []string{"../etc=http://x"}}, nil, true},
		{"skopeo", Options{Server: "http://127.0.0.1:5000", Registries: []string{"docker.io", "127.0.0.1:5001=http://127.0.0.1:5001"}},
			[]string{`prefix = "127.0.0.1:5001"`, `location = "127.0.0.1:5000/127.0.0.1_5001"`}, false},
		{"containerd", Options{Server: "http://127.0.0.1:5000", Registries: []string{"docker.io"}, Profile: "cpu=zne3"}, nil, true},
		{"containerd", Options{Server: "http://127.0.0.1:5000", Registries: []string{"docker.io"}, Profile: "cpu=zen3,gpu=8.0"},
			[]string{`/v2/_p/cpu=zen3%2Cgpu=8.0"`}, false},
		{"nerd", Options{Server: "http://x", Registries: []string{"docker.io"}}, nil, true},
		{"docker", Options{Server: "x", Registries: []string{"docker.io"}}, nil, true},
	} {
		got, err := Render(c.client, c.o)
		if (err != nil) != c.wantErr {
			t.Errorf("Render(%q, %+v) error %v, wantErr %v", c.client, c.o, err, c.wantErr)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("Render(%q, %+v) = %s\nlacks %s", c.client, c.o, got, w)
			}
		}
	}
}
