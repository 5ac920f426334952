package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// TestLayoutRoundTrip reads with inspect, resolve and pull the OCI layout
// that `tailor build --dest oci:DIR:TAG` writes, as a publisher checks a
// build before pushing it.
func TestLayoutRoundTrip(t *testing.T) {
	needCC(t)
	dir := filepath.Join(t.TempDir(), "forces")
	f := buildFile(t, "targets: [x86_64, x86_64_v3, haswell]\n")
	code, out, errs := runCLI(t, "build", "-f", f, "--dest", "oci:"+dir+":2.0", "--log-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("build: exit %d\n%s", code, errs)
	}
	index := strings.TrimSpace(out)[strings.LastIndex(strings.TrimSpace(out), "@")+1:]
	built, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	bi, _ := built.ImageIndex()
	bm, _ := bi.IndexManifest()
	idx, err := bi.ImageIndex(bm.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := idx.IndexManifest()
	haswell := entries.Manifests[2].Digest.String()

	for _, ref := range []string{"oci:" + dir, "oci:" + dir + ":2.0", "oci:" + dir + "@" + index} {
		code, out, errs = runCLI(t, "resolve", ref, "--profile", "cpu=haswell", "-o", "json")
		if code != 0 {
			t.Fatalf("resolve %s: exit %d\n%s", ref, code, errs)
		}
		var res struct {
			Reference string `json:"reference"`
			Digest    string `json:"digest"`
			Index     string `json:"index"`
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("resolve -o json: %v\n%s", err, out)
		}
		if res.Digest != haswell || res.Index != index || res.Reference != "oci:"+dir+"@"+haswell {
			t.Errorf("resolve %s = %s of %s (%s); want the haswell entry %s of %s in oci:%s", ref, res.Digest, res.Index, res.Reference, haswell, index, dir)
		}
		// What resolve prints is itself a reference tailor reads.
		if code, _, errs := runCLI(t, "resolve", res.Reference, "--profile", "cpu=haswell"); code != 0 {
			t.Errorf("resolve %s: exit %d\n%s", res.Reference, code, errs)
		}
	}

	code, out, errs = runCLI(t, "inspect", "oci:"+dir+":2.0", "--targets", "nehalem,zen2,haswell")
	if code != 0 {
		t.Fatalf("inspect: exit %d\n%s", code, errs)
	}
	for _, want := range []string{"x86_64_v3", "haswell", "nehalem", "zen2"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}

	dest := filepath.Join(t.TempDir(), "pulled")
	if code, _, errs = runCLI(t, "pull", "oci:"+dir+":2.0", "--profile", "cpu=zen2", "--dest", "oci:"+dest+":run"); code != 0 {
		t.Fatalf("pull: exit %d\n%s", code, errs)
	}
	lp, err := layout.FromPath(dest)
	if err != nil {
		t.Fatal(err)
	}
	top, _ := lp.ImageIndex()
	im, _ := top.IndexManifest()
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "run" {
		t.Fatalf("pulled layout index.json = %+v; want one image tagged run", im.Manifests)
	}
	img, err := top.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := img.Layers(); err != nil {
		t.Errorf("pulled image layers: %v", err)
	}

	code, _, errs = runCLI(t, "resolve", "oci:"+dir+":nosuch", "--profile", "cpu=haswell")
	if code != 1 || !strings.Contains(errs, `no image tagged "nosuch"`) || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Errorf("resolve of a missing tag: exit %d, stderr %q; want 1 and one line naming the tag", code, errs)
	}
}

// TestIndexCreateFromLayout publishes builds kept in an OCI layout: the
// entries are copied from the layout into the registry, then indexed.
func TestIndexCreateFromLayout(t *testing.T) {
	needCC(t)
	dir := filepath.Join(t.TempDir(), "forces")
	f := buildFile(t, "targets: [x86_64, x86_64_v3]\n")
	if code, _, errs := runCLI(t, "build", "-f", f, "--dest", "oci:"+dir+":1", "--log-dir", t.TempDir()); code != 0 {
		t.Fatalf("build: exit %d\n%s", code, errs)
	}
	lp, _ := layout.FromPath(dir)
	top, _ := lp.ImageIndex()
	tm, _ := top.IndexManifest()
	idx, _ := top.ImageIndex(tm.Manifests[0].Digest)
	entries, _ := idx.IndexManifest()
	generic, v3 := entries.Manifests[0].Digest.String(), entries.Manifests[1].Digest.String()

	host := registrytest.New(t, "")
	code, out, errs := runCLI(t, "index", "create", host+"/forces:1",
		"--entry", "oci:"+dir+"@"+generic, "--entry", "oci:"+dir+"@"+v3+"=cpu=x86_64_v3")
	if code != 0 {
		t.Fatalf("index create: exit %d\n%s", code, errs)
	}
	if !strings.HasPrefix(out, host+"/forces@sha256:") {
		t.Errorf("index create printed %q", out)
	}
	code, out, errs = runCLI(t, "resolve", host+"/forces:1", "--profile", "cpu=zen2")
	if code != 0 || strings.TrimSpace(out) != host+"/forces@"+v3 {
		t.Errorf("resolve of the published index: exit %d %q %s; want the v3 entry %s", code, out, errs, v3)
	}
	if code, _, errs := runCLI(t, "pull", host+"/forces:1", "--profile", "cpu=x86_64", "--dest", "oci:"+t.TempDir()); code != 0 {
		t.Errorf("pull of the copied generic entry: exit %d\n%s", code, errs)
	}

	// Into a layout: a new one (the images copied in), then annotated there.
	out2 := filepath.Join(t.TempDir(), "out")
	code, out, errs = runCLI(t, "index", "create", "oci:"+out2+":2",
		"--entry", "oci:"+dir+"@"+generic, "--entry", "oci:"+dir+"@"+v3+"=cpu=x86_64_v3")
	if code != 0 || !strings.HasPrefix(out, "oci:"+out2+"@sha256:") {
		t.Fatalf("index create oci:DIR:TAG: exit %d %q\n%s", code, out, errs)
	}
	if code, out, errs = runCLI(t, "resolve", "oci:"+out2+":2", "--profile", "cpu=zen2"); code != 0 || strings.TrimSpace(out) != "oci:"+out2+"@"+v3 {
		t.Errorf("resolve of the index written to a layout: exit %d %q %s; want the v3 entry %s", code, out, errs, v3)
	}
	code, out, errs = runCLI(t, "index", "annotate", "oci:"+out2+":2", "--entry", v3, "cpu=haswell", "--tag", "3")
	if code != 0 || !strings.HasPrefix(out, "oci:"+out2+"@sha256:") {
		t.Fatalf("index annotate oci:DIR:TAG: exit %d %q\n%s", code, out, errs)
	}
	for profile, want := range map[string]string{"cpu=haswell": v3, "cpu=zen2": generic} {
		if code, out, errs = runCLI(t, "resolve", "oci:"+out2+":3", "--profile", profile); code != 0 || strings.TrimSpace(out) != "oci:"+out2+"@"+want {
			t.Errorf("resolve --profile %s of the annotated index: exit %d %q %s; want %s", profile, code, out, errs, want)
		}
	}
	if code, _, errs = runCLI(t, "index", "annotate", "oci:"+out2+"@"+v3, "--entry", v3, "cpu=haswell"); code != exitUsage {
		t.Errorf("index annotate of a layout by digest without --tag: exit %d, want %d\n%s", code, exitUsage, errs)
	}
}
