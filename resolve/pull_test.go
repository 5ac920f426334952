package resolve

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

func TestParseDest(t *testing.T) {
	good := map[string]Dest{
		"oci:out":                   {Kind: DestOCI, Path: "out"},
		"oci:out:v1":                {Kind: DestOCI, Path: "out", Tag: "v1"},
		"oci:/tmp/x/out:latest":     {Kind: DestOCI, Path: "/tmp/x/out", Tag: "latest"},
		"docker-archive:app.tar":    {Kind: DestDockerArchive, Path: "app.tar"},
		"docker-archive:/a:b/c.tar": {Kind: DestDockerArchive, Path: "/a:b/c.tar"},
	}
	for in, want := range good {
		got, err := ParseDest(in)
		if err != nil || got != want {
			t.Errorf("ParseDest(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if again, _ := ParseDest(got.String()); again != got {
			t.Errorf("ParseDest(%q).String() does not round-trip: %+v", in, again)
		}
	}
	for _, bad := range []string{"", "out", "oci:", "oci:out:bad/tag", "oci::v1", "dir:out", "docker-daemon:x"} {
		if _, err := ParseDest(bad); !errors.Is(err, ErrBadDest) {
			t.Errorf("ParseDest(%q) = %v, want ErrBadDest", bad, err)
		}
	}
}

func TestPull(t *testing.T) {
	host := registries(t)["ggcr"]
	pushed, err := resolvetest.Push(host+"/app:1", resolvetest.Variants)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	updates := make(chan v1.Update, 100)
	res, err := Pull(context.Background(), newClient(t), host+"/app:1", mustProfile(t, "cpu=zen4"), "oci:"+dir+":v1", updates)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	var last v1.Update
	for u := range updates {
		last = u
	}
	if last.Total == 0 || last.Complete != last.Total {
		t.Errorf("last progress update = %+v, want complete", last)
	}
	want := pushed.Digests["zen4"]
	if res.Digest != want {
		t.Fatalf("Pull chose %s, want zen4 %s", res.Digest, want)
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != want || im.Manifests[0].Annotations[AnnotationRefName] != "v1" {
		t.Errorf("layout index = %+v, want one entry %s tagged v1", im.Manifests, want)
	}
	if _, err := lp.Image(want); err != nil {
		t.Errorf("layout image %s: %v", want, err)
	}
	// Pull again with the same tag: replaced, not added.
	if _, err := Pull(context.Background(), newClient(t), host+"/app:1", mustProfile(t, "cpu=haswell"), "oci:"+dir+":v1", nil); err != nil {
		t.Fatal(err)
	}
	idx, _ = lp.ImageIndex()
	if im, _ = idx.IndexManifest(); len(im.Manifests) != 1 || im.Manifests[0].Digest != pushed.Digests["x86_64_v3"] {
		t.Errorf("layout after a second pull of tag v1 = %+v, want the x86_64_v3 entry alone", im.Manifests)
	}
}

func TestPullDockerArchive(t *testing.T) {
	host := registries(t)["ggcr"]
	pushed, err := resolvetest.Push(host+"/app:1", resolvetest.Variants)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "app.tar")
	if _, err := Pull(context.Background(), newClient(t), host+"/app:1", mustProfile(t, "cpu=neoverse_v2"), "docker-archive:"+file, nil); err != nil {
		t.Fatalf("Pull: %v", err)
	}
	img, err := tarball.ImageFromPath(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil || cf.Architecture != "arm64" {
		t.Errorf("archived image config = %+v, %v; want arm64", cf, err)
	}
	wantCfg, _ := resolvetest.Image(resolvetest.Variants[4])
	wantName, _ := wantCfg.ConfigName()
	if gotName, _ := img.ConfigName(); gotName != wantName {
		t.Errorf("archived config %s, want the arm64 variant's %s (index %s)", gotName, wantName, pushed.Index)
	}
}

func TestInspect(t *testing.T) {
	host := registries(t)["ggcr"]
	pushed, err := resolvetest.Push(host+"/app:1", resolvetest.Variants)
	if err != nil {
		t.Fatal(err)
	}
	mx, err := Inspect(context.Background(), newClient(t), host+"/app:1", []string{"haswell", "zen4", "core2", "neoverse_v2", "power9le"})
	if err != nil {
		t.Fatal(err)
	}
	if len(mx.Entries) != len(resolvetest.Variants) || mx.Digest != pushed.Index {
		t.Fatalf("Inspect: %d entries, digest %s", len(mx.Entries), mx.Digest)
	}
	if r := mx.Entries[3].Requirements; r == nil || r.Target != "zen4" {
		t.Errorf("entry 3 requirements = %+v, want zen4", r)
	}
	want := map[string]string{"haswell": "x86_64_v3", "zen4": "zen4", "core2": "generic", "neoverse_v2": "arm64", "power9le": ""}
	for _, a := range mx.Targets {
		switch w := want[a.Target]; {
		case w == "" && a.Entry != nil:
			t.Errorf("target %s got entry %d, want none", a.Target, *a.Entry)
		case w != "" && (a.Digest == nil || *a.Digest != pushed.Digests[w]):
			t.Errorf("target %s got %v, want %s", a.Target, a.Digest, w)
		}
	}
	if _, err := Inspect(context.Background(), newClient(t), host+"/app:1", []string{"pentium9000"}); err == nil {
		t.Error("Inspect with an unknown target: no error")
	}
}
