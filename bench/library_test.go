package bench

import (
	"context"
	"testing"

	"github.com/google/go-containerregistry/pkg/crane"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/resolve"
)

// BenchmarkResolveLibrary is BenchmarkResolveProcess without process
// start: resolve.Resolve with a fresh client per call (as a new process
// has) against crane.Digest with a platform, in the same process.
func BenchmarkResolveLibrary(b *testing.B) {
	e := setup(b)
	ref := e.proxy + "/app:1"
	p, err := profile.ParseSpec("cpu=zen4")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("tailor", func(b *testing.B) {
		e.reset()
		for b.Loop() {
			c, err := remote.New()
			if err != nil {
				b.Fatal(err)
			}
			res, err := resolve.Resolve(context.Background(), c, ref, p)
			if err != nil || res.Digest != e.pushed.Digests["zen4"] {
				b.Fatalf("Resolve = %v, %v", res, err)
			}
		}
		report(b, e)
	})
	b.Run("ggcr", func(b *testing.B) {
		e.reset()
		platform := &v1.Platform{OS: "linux", Architecture: "amd64"}
		for b.Loop() {
			d, err := crane.Digest(ref, crane.WithPlatform(platform))
			if err != nil || d != e.pushed.Digests["generic"].String() {
				b.Fatalf("crane.Digest = %s, %v", d, err)
			}
		}
		report(b, e)
	})
}

func report(b *testing.B, e *env) {
	n := float64(b.N)
	b.ReportMetric(float64(e.requests.Load())/n, "requests/op")
	b.ReportMetric(float64(e.manifests.Load())/n, "manifestGETs/op")
}
