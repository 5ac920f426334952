package serve

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// TestSkopeoTokenFlow: a real client, which decides how to authenticate
// from the /v2/ ping, pushes with credentials through the token flow and
// pulls anonymously. Skipped only when skopeo is not on PATH (CI installs
// it).
func TestSkopeoTokenFlow(t *testing.T) {
	if _, err := exec.LookPath("skopeo"); err != nil {
		t.Skip("skopeo is not on PATH")
	}
	path := writeHtpasswd(t, map[string]string{"alice": "secret"})
	_, srv := newTestServer(t, WithHtpasswd(path), WithProfile(mustProfile(t, "cpu=haswell")))

	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	lp, err := layout.Write(src, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendIndex(variantIndex(t, testVariants),
		layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "v1"})); err != nil {
		t.Fatal(err)
	}
	// Own policy, auth file and registries.conf: nothing of the machine's.
	policy := filepath.Join(dir, "policy.json")
	files := map[string]string{
		policy:                                `{"default":[{"type":"insecureAcceptAnything"}]}`,
		filepath.Join(dir, "auth.json"):       `{}`,
		filepath.Join(dir, "registries.conf"): ``,
	}
	for p, c := range files {
		if err := os.WriteFile(p, []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	skopeo := func(args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command("skopeo", append([]string{"--policy", policy}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_RUNTIME_DIR="+dir, "XDG_CONFIG_HOME="+dir,
			"REGISTRY_AUTH_FILE="+filepath.Join(dir, "auth.json"), "CONTAINERS_REGISTRIES_CONF="+filepath.Join(dir, "registries.conf"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	dst := "docker://" + srv + "/x/y:1"

	for _, creds := range [][]string{nil, {"--dest-creds", "alice:wrong"}} {
		args := append([]string{"copy", "--all", "--dest-tls-verify=false"}, creds...)
		out, err := skopeo(append(args, "oci:"+src+":v1", dst)...)
		if err == nil {
			t.Fatalf("skopeo copy %v into serve succeeded; want a refusal", creds)
		}
		if !strings.Contains(strings.ToLower(out), "unauthorized") && !strings.Contains(out, "401") {
			t.Errorf("skopeo copy %v: refused with %q, want unauthorized", creds, out)
		}
	}
	if out, err := skopeo("copy", "--all", "--dest-tls-verify=false", "--dest-creds", "alice:secret", "oci:"+src+":v1", dst); err != nil {
		t.Fatalf("skopeo copy --dest-creds alice:secret: %v\n%s", err, out)
	}

	// Anonymous pulls: the tailored index, and the haswell variant.
	out, err := skopeo("inspect", "--raw", "--tls-verify=false", "docker://"+srv+"/x/y:1")
	if err != nil {
		t.Fatalf("skopeo inspect anonymously: %v\n%s", err, out)
	}
	var im v1.IndexManifest
	if err := json.Unmarshal([]byte(out), &im); err != nil || !hasSelected(im.Manifests) {
		t.Errorf("skopeo inspect --raw: %v, not a tailored index:\n%s", err, out)
	}
	pulled := filepath.Join(dir, "pulled")
	if out, err := skopeo("copy", "--src-tls-verify=false", "--override-os", "linux", "--override-arch", "amd64",
		"docker://"+srv+"/x/y:1", "oci:"+pulled+":out"); err != nil {
		t.Fatalf("skopeo copy anonymously out of serve: %v\n%s", err, out)
	}
	lp, err = layout.FromPath(pulled)
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := lp.ImageIndex()
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) != 1 {
		t.Fatalf("pulled layout: %v %+v", err, m)
	}
	img, err := lp.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if got := imageFile(t, img, "target"); got != "haswell" {
		t.Errorf("skopeo pulled %q, want haswell", got)
	}
}
