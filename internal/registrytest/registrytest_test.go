package registrytest

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestRegistryRoundTrip(t *testing.T) {
	host := New(t, "")
	img := Image(t, v1.Platform{OS: "linux", Architecture: "amd64"}, map[string]string{"hello": "world"})
	ref, err := name.ParseReference(host + "/test/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push to distribution registry: %v", err)
	}
	got, err := remote.Image(ref)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	want, _ := img.Digest()
	gotD, _ := got.Digest()
	if gotD != want {
		t.Errorf("pulled digest %s, pushed %s", gotD, want)
	}
	cf, err := got.ConfigFile()
	if err != nil || cf.Architecture != "amd64" {
		t.Errorf("config = %+v, %v; want architecture amd64", cf, err)
	}
}
