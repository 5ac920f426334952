package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	ggcr "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tailor-dev/tailor/internal/gcctest"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/internal/tooltest"
)

// TestVerifyCommand: tailor verify on issue 9's matrix, in a registry:
// exit 1 naming the mislabeled entries, -o json an array in index order
// with digest, verdict and evidence; --record, after which resolve gives a
// nehalem host the generic build and --explain tells a haswell host why
// not the AVX-512 build labelled haswell.
func TestVerifyCommand(t *testing.T) {
	tooltest.Path(t, "qemu-x86_64")
	host := registrytest.New(t, "")
	ref := host + "/forces:1"
	r, _ := name.ParseReference(ref)
	idx := gcctest.Matrix(t)
	if err := ggcr.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "verify", ref, "-o", "json")
	if code != exitFailure || !strings.Contains(errOut, "2 of 6 entries") {
		t.Fatalf("verify exit %d, stderr %q; want 1 and 2 of 6 mislabeled", code, errOut)
	}
	var results []struct {
		Index    int            `json:"index"`
		Digest   string         `json:"digest"`
		Verdict  string         `json:"verdict"`
		Reasons  []string       `json:"reasons"`
		Evidence map[string]any `json:"evidence"`
	}
	if err := json.Unmarshal([]byte(out), &results); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	im, _ := idx.IndexManifest()
	for i, res := range results {
		want := "ok"
		if gcctest.MatrixBuilds[i].Lies {
			want = "mislabeled"
		}
		if res.Index != i || res.Digest != im.Manifests[i].Digest.String() || res.Verdict != want || res.Evidence["bytes_read"] == nil {
			t.Errorf("entry %d: %+v; want verdict %s and digest %s", i, res, want, im.Manifests[i].Digest)
		}
	}
	if !strings.Contains(strings.Join(results[2].Reasons, " "), "avx512f") {
		t.Errorf("the v4 build labelled haswell: reasons %v do not name avx512f", results[2].Reasons)
	}

	code, out, _ = runCLI(t, "verify", ref, "--run=false")
	if code != exitFailure || !strings.Contains(out, "4 ok, 2 mislabeled, 0 unverified") || !strings.Contains(out, "#2 mislabeled: its code uses avx512f") {
		t.Errorf("text output (exit %d):\n%s", code, out)
	}

	code, _, errOut = runCLI(t, "verify", ref, "--record", "--run=false")
	if code != exitFailure || !strings.Contains(errOut, "recorded what each entry needs") {
		t.Fatalf("--record: exit %d, %s", code, errOut)
	}
	code, out, errOut = runCLI(t, "resolve", ref, "--profile", "cpu=nehalem")
	if code != 0 || strings.TrimSpace(out) != host+"/forces@"+im.Manifests[0].Digest.String() {
		t.Errorf("nehalem after --record: %d %q %s; want the generic build", code, out, errOut)
	}
	code, out, _ = runCLI(t, "resolve", ref, "--profile", "cpu=haswell", "--explain")
	if code != 0 || !strings.Contains(out, "tailor verify found its code needs features=avx+avx2+fma+avx512f") || strings.Contains(strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:]), im.Manifests[2].Digest.String()) {
		t.Errorf("haswell --explain after --record:\n%s", out)
	}
}

func TestVerifyCommandLayoutAndErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := layout.Write(dir, gcctest.Matrix(t)); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "verify", "oci:"+dir, "--run=false", "--record")
	if code != exitFailure || !strings.Contains(out, "mislabeled") {
		t.Errorf("verify oci: --record: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "resolve", "oci:"+dir, "--profile", "cpu=nehalem", "-o", "json")
	var res struct {
		Chosen struct {
			Index int `json:"index"`
		} `json:"chosen"`
	}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res.Chosen.Index != 0 {
		t.Errorf("resolve of the recorded layout for nehalem: exit %d, chosen %d (%v)\n%s", code, res.Chosen.Index, err, out)
	}
	for _, args := range [][]string{
		{"verify"},
		{"verify", "oci:" + dir, "-o", "yaml"},
		{"verify", "oci:" + dir, "--record-to", "x:1"},
		{"verify", "oci:" + dir, "--run-timeout", "0s"},
		{"verify", "not a reference"},
	} {
		if code, _, errOut := runCLI(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errOut)
		}
	}
}
