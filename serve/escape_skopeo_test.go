package serve

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/internal/tooltest"
)

// skopeoIn returns a runner of skopeo with its own policy, auth file and
// registries.conf under a temporary home: nothing of the machine's.
func skopeoIn(t *testing.T) func(args ...string) (string, error) {
	t.Helper()
	bin := tooltest.Path(t, "skopeo")
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.json")
	for p, c := range map[string]string{
		policy:                                `{"default":[{"type":"insecureAcceptAnything"}]}`,
		filepath.Join(dir, "auth.json"):       `{}`,
		filepath.Join(dir, "registries.conf"): ``,
	} {
		if err := os.WriteFile(p, []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return func(args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"--policy", policy}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_RUNTIME_DIR="+dir, "XDG_CONFIG_HOME="+dir,
			"REGISTRY_AUTH_FILE="+filepath.Join(dir, "auth.json"), "CONTAINERS_REGISTRIES_CONF="+filepath.Join(dir, "registries.conf"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
}

// TestSkopeoCopiedAnswerNeverEscapes is the attack with a real client:
// `skopeo copy --all` of an x86_64_v4 host's answer (a default-profile
// serve with its embedded registry) into a plain distribution registry,
// then a haswell client pulling that copy through a tailor mirror: it gets
// no image rather than the v4 build; a v4 client gets the v4 build; and
// the same copy into tailor's embedded registry is refused.
func TestSkopeoCopiedAnswerNeverEscapes(t *testing.T) {
	skopeo := skopeoIn(t)
	_, a := newTestServer(t, WithProfile(mustProfile(t, "cpu=x86_64_v4")))
	pushIndex(t, a+"/app:v1", levelIndex(t))
	plain := registrytest.New(t, "")
	if out, err := skopeo("copy", "--all", "--src-tls-verify=false", "--dest-tls-verify=false",
		"docker://"+a+"/app:v1", "docker://"+plain+"/copy:v1"); err != nil {
		t.Fatalf("skopeo copy --all of the answer into distribution: %v\n%s", err, out)
	}
	raw, err := skopeo("inspect", "--raw", "--tls-verify=false", "docker://"+plain+"/copy:v1")
	if err != nil || !strings.Contains(raw, AnnotationSourceIndex) || !strings.Contains(raw, `"dev.tailor.cpu.target":"x86_64_v4"`) {
		t.Fatalf("the copy in distribution is not the marked answer: %v\n%s", err, raw)
	}

	_, b := newTestServer(t, WithUpstreams(Upstream{Name: "plain", URL: "http://" + plain}), WithLogin(true))
	pull := func(user string) (string, error) {
		dst := filepath.Join(t.TempDir(), "out")
		if out, err := skopeo("copy", "--src-tls-verify=false", "--src-creds", user+":x",
			"--override-os", "linux", "--override-arch", "amd64",
			"docker://"+b+"/copy:v1", "dir:"+dst); err != nil {
			return out, err
		}
		return "", nil
	}
	out, err := pull("cpu=haswell")
	if err == nil {
		t.Errorf("a haswell client pulled the copied v4 answer through the tailor mirror")
	} else if !strings.Contains(out, "no entry of the index runs") {
		t.Errorf("haswell pull refused with %q, want no entry of the index runs", out)
	}
	if out, err := pull("cpu=x86_64_v4"); err != nil {
		t.Errorf("a v4 client pulling the copy through the mirror: %v\n%s", err, out)
	}

	_, c := newTestServer(t, WithProfile(mustProfile(t, "cpu=haswell")))
	out, err = skopeo("copy", "--all", "--src-tls-verify=false", "--dest-tls-verify=false",
		"docker://"+a+"/app:v1", "docker://"+c+"/copy:v1")
	if err == nil || !strings.Contains(out, "tailored answer") {
		t.Errorf("skopeo copy --all of the answer into tailor's embedded registry: %v, want refused as a tailored answer\n%s", err, out)
	}
	// Nothing stored, in no format: skopeo 1.9 retries a refused list as a
	// Docker manifest list, which has no annotations (the registry refuses
	// the same entries resent without the mark).
	resp := get(t, "http://"+c+"/v2/copy/manifests/v1", http.Header{ProfileHeader: {ProfileNone}})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("after the refused copy the embedded registry has copy:v1: %d %s", resp.StatusCode, body)
	}
}
