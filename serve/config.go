package serve

import (
	"fmt"
	"os"

	"github.com/tailor-dev/tailor/internal/yamlstrict"
)

// Config is the `tailor serve --config` file (YAML or JSON). Command-line
// flags override it.
//
//	listen: 127.0.0.1:5000
//	storage: /var/lib/tailor
//	profile: host              # default profile: host, a spec or a JSON file
//	login: true                # clients log in with a profile as user name
//	htpasswd: /etc/tailor/htpasswd
//	tls: {cert: server.crt, key: server.key}
//	upstreamTimeout: 30s
//	tagTTL: 5s                 # how long an upstream tag read is reused
//	cacheSize: 20G             # content cache of a proxying server; 0: none
//	ui: true                   # the web view at /ui/
//	upstreams:
//	  - {name: docker.io, url: https://registry-1.docker.io}
//	profiles:                  # names clients may use instead of a spec
//	  zen3: cpu=zen3
//	  gpu-node: /etc/tailor/gpu-node.json
type Config struct {
	Listen          string            `json:"listen,omitempty"`
	Storage         string            `json:"storage,omitempty"`
	Profile         string            `json:"profile,omitempty"`
	Login           bool              `json:"login,omitempty"`
	Htpasswd        string            `json:"htpasswd,omitempty"`
	TLS             TLSConfig         `json:"tls,omitempty"`
	UpstreamTimeout string            `json:"upstreamTimeout,omitempty"`
	TagTTL          string            `json:"tagTTL,omitempty"`
	CacheSize       string            `json:"cacheSize,omitempty"`
	UI              *bool             `json:"ui,omitempty"`
	Upstreams       []Upstream        `json:"upstreams,omitempty"`
	Profiles        map[string]string `json:"profiles,omitempty"`
}

// TLSConfig names a certificate and key file.
type TLSConfig struct {
	Cert string `json:"cert,omitempty"`
	Key  string `json:"key,omitempty"`
}

// LoadConfig reads a config file; unknown keys are an error.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("serve config: %w", err)
	}
	var c Config
	if err := yamlstrict.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("serve config %s: %w", path, err)
	}
	for i, u := range c.Upstreams {
		if u.Name == "" || u.URL == "" {
			return nil, fmt.Errorf("serve config %s: upstreams[%d]: want name and url", path, i)
		}
	}
	return &c, nil
}
