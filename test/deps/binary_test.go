package deps

import (
	"strings"
	"testing"
)

// TestBinaryLinksNoTestHelpers: the product binary links no test helper
// (testing, httptest, internal/registrytest) and none of the distribution
// registry's weight (it is the embedded registry no more: package
// registry is; distribution stays a test dependency, the reference).
func TestBinaryLinksNoTestHelpers(t *testing.T) {
	deps := listDeps(t, nil, "./cmd/tailor")
	if len(deps) < 50 {
		t.Fatalf("go list printed %d packages for cmd/tailor; the check saw nothing", len(deps))
	}
	for _, p := range deps {
		switch {
		case p == "testing", p == "net/http/httptest", strings.HasSuffix(p, "/internal/registrytest"),
			strings.HasPrefix(p, "github.com/distribution/"), strings.HasPrefix(p, "go.opentelemetry.io/"),
			strings.HasPrefix(p, "google.golang.org/grpc"), strings.HasPrefix(p, "github.com/redis/"):
			t.Errorf("cmd/tailor links %s", p)
		}
	}
}
