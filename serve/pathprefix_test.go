package serve

import (
	"io"
	"net/http"
	"testing"

	"github.com/tailor-dev/tailor/internal/registrytest"
)

func TestRegistryOfPath(t *testing.T) {
	for in, want := range map[string]string{
		"reg.local_5443": "reg.local:5443",
		"docker.io":      "docker.io",
		"my_repo":        "my_repo",
		"a_123456":       "a_123456",
		"_5000":          "_5000",
		"x_":             "x_",
	} {
		if got := registryOfPath(in); got != want {
			t.Errorf("registryOfPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUpstreamWithPortByPathPrefix: podman's mirror location for a
// registry with a port (mirror-config writes host/reg.local_5443) reaches
// the upstream of that name.
func TestUpstreamWithPortByPathPrefix(t *testing.T) {
	def := registrytest.New(t, "")
	other := registrytest.New(t, "")
	pushIndex(t, other+"/app:v1", variantIndex(t, testVariants))
	_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "docker.io", URL: "http://" + def}, Upstream{Name: "reg.local:5443", URL: "http://" + other}),
		WithProfile(mustProfile(t, "cpu=haswell")))
	resp := get(t, "http://"+srv+"/v2/reg.local_5443/app/manifests/v1", http.Header{"Accept": {mediaOCIIndex}})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v2/reg.local_5443/app/manifests/v1: %d %s, want 200 from the upstream reg.local:5443", resp.StatusCode, body)
	}
	resp = get(t, "http://"+srv+"/v2/app/manifests/v1", http.Header{"Accept": {mediaOCIIndex}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /v2/app/manifests/v1: %d, want 404 from the default upstream, which lacks it", resp.StatusCode)
	}
}
