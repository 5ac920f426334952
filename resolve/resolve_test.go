package resolve

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/match"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

// registries returns the hosts to test against: ggcr's in-process
// registry (fast) and the distribution registry (the truth).
func registries(t *testing.T) map[string]string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return map[string]string{
		"ggcr":         strings.TrimPrefix(srv.URL, "http://"),
		"distribution": registrytest.New(t, ""),
	}
}

func newClient(t *testing.T) *remote.Client {
	t.Helper()
	c, err := remote.New(remote.WithRetry(remote.Backoff{Steps: 1}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustProfile(t *testing.T, spec string) *profile.Profile {
	t.Helper()
	p, err := profile.ParseSpec(spec)
	if err != nil {
		t.Fatalf("ParseSpec(%q): %v", spec, err)
	}
	return p
}

// hostChoices maps a host profile to the variant it must get.
var hostChoices = []struct{ spec, want string }{
	{"cpu=haswell", "x86_64_v3"},
	{"cpu=sapphirerapids", "skylake_avx512"},
	{"cpu=zen4", "zen4"},
	{"cpu=core2", "generic"},
	{"cpu=neoverse_v2", "arm64"},
	{"cpu=haswell,gpu=9.0,driver=550.54.14", "cuda_sm90"},
	{"cpu=zen4,gpu=8.0,driver=550.54.14", "zen4"},
}

func TestResolve(t *testing.T) {
	for regName, host := range registries(t) {
		t.Run(regName, func(t *testing.T) {
			pushed, err := resolvetest.Push(host+"/app:1", resolvetest.Variants)
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(t)
			for _, hc := range hostChoices {
				res, err := Resolve(context.Background(), c, host+"/app:1", mustProfile(t, hc.spec))
				if err != nil {
					t.Errorf("Resolve for %s: %v", hc.spec, err)
					continue
				}
				want := pushed.Digests[hc.want]
				if res.Digest != want || res.Reference != host+"/app@"+want.String() {
					t.Errorf("Resolve for %s = %s, want %s (%s)", hc.spec, res.Reference, hc.want, want)
				}
				if res.Index == nil || *res.Index != pushed.Index || len(res.Candidates) != len(resolvetest.Variants) {
					t.Errorf("Resolve for %s: index %v, %d candidates", hc.spec, res.Index, len(res.Candidates))
				}
			}
			// By digest of the index: resolves within it.
			byDigest := host + "/app@" + pushed.Index.String()
			res, err := Resolve(context.Background(), c, byDigest, mustProfile(t, "cpu=zen4"))
			if err != nil || res.Digest != pushed.Digests["zen4"] || res.Repository != host+"/app" {
				t.Errorf("Resolve(%s) = %+v, %v; want the zen4 entry", byDigest, res, err)
			}
			// A single image resolves to itself.
			single := host + "/app@" + pushed.Digests["zen4"].String()
			res, err = Resolve(context.Background(), c, single, mustProfile(t, "cpu=haswell"))
			if err != nil || res.Digest != pushed.Digests["zen4"] || res.Index != nil {
				t.Errorf("Resolve(single image) = %+v, %v; want itself", res, err)
			}
			_, err = Resolve(context.Background(), c, single, mustProfile(t, "cpu=neoverse_v2"))
			if !errors.Is(err, match.ErrNoMatch) || !strings.Contains(err.Error(), "does not fit host") {
				t.Errorf("Resolve(amd64 image) on arm64 = %v, want a platform mismatch", err)
			}
		})
	}
}

func TestResolveNoMatch(t *testing.T) {
	host := registries(t)["ggcr"]
	if _, err := resolvetest.Push(host+"/gpu:1", resolvetest.Variants[5:]); err != nil {
		t.Fatal(err)
	}
	_, err := Resolve(context.Background(), newClient(t), host+"/gpu:1", mustProfile(t, "cpu=zen4"))
	var nm *match.NoMatchError
	if !errors.As(err, &nm) || len(nm.Candidates) != 1 || !strings.Contains(err.Error(), "sm_90") {
		t.Errorf("Resolve of a GPU-only index on a CPU host = %v, want a NoMatchError naming sm_90", err)
	}
}

func TestResolveMalformed(t *testing.T) {
	host := registries(t)["ggcr"]
	for name, ann := range map[string]map[string]string{
		"unknown target": {requirement.AnnotationCPUTarget: "pentium9000"},
		"bad cuda arch":  {requirement.AnnotationCUDAArch: "sm_9x"},
	} {
		bad := []resolvetest.Variant{resolvetest.Variants[0], {Name: "bad", Arch: "amd64", Annotations: ann}}
		ref := host + "/bad:" + strings.ReplaceAll(name, " ", "-")
		if _, err := resolvetest.Push(ref, bad); err != nil {
			t.Fatal(err)
		}
		_, err := Resolve(context.Background(), newClient(t), ref, mustProfile(t, "cpu=zen4"))
		if !errors.Is(err, requirement.ErrMalformed) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Resolve(%s) = %v, want one line wrapping requirement.ErrMalformed", name, err)
		}
	}
}

func TestRepository(t *testing.T) {
	for in, want := range map[string]string{
		"app":                          "app",
		"app:1":                        "app",
		"localhost:5000/app":           "localhost:5000/app",
		"localhost:5000/app:1":         "localhost:5000/app",
		"localhost:5000/a/b@sha256:00": "localhost:5000/a/b",
		"ghcr.io/o/app:1@sha256:00":    "ghcr.io/o/app",
	} {
		if got := Repository(in); got != want {
			t.Errorf("Repository(%q) = %q, want %q", in, got, want)
		}
	}
}
