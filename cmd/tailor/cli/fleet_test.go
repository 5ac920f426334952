package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

// kubeNode is a Node as `kubectl get nodes -o json` prints it (the parts
// fleet reads).
type kubeNode struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
}

// fleetFixture labels nodes from corpus dumps and GPU specs with
// `tailor detect -o nfd`, writes them as `kubectl get nodes -o json` would,
// and keeps each node's `detect -o json` profile.
func fleetFixture(t *testing.T) (nodesFile string, profiles map[string]string) {
	t.Helper()
	dir := t.TempDir()
	sources := []struct {
		name string
		args []string
	}{
		{"spr", []string{"--cpuinfo", corpusFile(t, "linux-unknown-sapphirerapids")}},
		{"zen4", []string{"--cpuinfo", corpusFile(t, "linux-rocky8.5-zen4")}},
		{"ivb", []string{"--cpuinfo", corpusFile(t, "linux-rhel7-ivybridge")}},
		{"graviton", []string{"--cpuinfo", corpusFile(t, "linux-amazon-neoverse_v1"), "--machine", "aarch64"}},
		{"power9", []string{"--cpuinfo", corpusFile(t, "linux-rhel8-power9"), "--machine", "ppc64le"}},
		{"h100", []string{"--profile", "cpu=sapphirerapids,gpu=9.0+9.0,driver=550.54.14"}},
	}
	profiles = map[string]string{}
	list := struct {
		Kind  string     `json:"kind"`
		Items []kubeNode `json:"items"`
	}{Kind: "List"}
	for _, src := range sources {
		name, args := src.name, src.args
		out, errs, code := run(t, append([]string{"detect", "-o", "nfd", "--labels-file", os.DevNull}, args...)...)
		if code != 0 {
			t.Fatalf("detect -o nfd %v: exit %d: %s", args, code, errs)
		}
		n := kubeNode{Kind: "Node"}
		n.Metadata.Name = name
		n.Metadata.Labels = map[string]string{"kubernetes.io/hostname": name}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("detect -o nfd line %q is not key=value", line)
			}
			n.Metadata.Labels[k] = v
		}
		// As kubelet labels every node.
		n.Metadata.Labels["kubernetes.io/arch"] = n.Metadata.Labels["tailor.dev/platform.architecture"]
		n.Metadata.Labels["kubernetes.io/os"] = "linux"
		list.Items = append(list.Items, n)
		js, errs, code := run(t, append([]string{"detect", "-o", "json", "--labels-file", os.DevNull}, args...)...)
		if code != 0 {
			t.Fatalf("detect -o json: %s", errs)
		}
		profiles[name] = filepath.Join(dir, name+".json")
		if err := os.WriteFile(profiles[name], []byte(js), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	nodesFile = filepath.Join(dir, "nodes.json")
	if err := os.WriteFile(nodesFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return nodesFile, profiles
}

// TestFleetAgreesWithResolve: tailor fleet, from the labels `detect -o nfd`
// wrote, names for each node the build `tailor resolve --profile` names for
// the profile `detect -o json` wrote.
func TestFleetAgreesWithResolve(t *testing.T) {
	nodes, profiles := fleetFixture(t)
	host := registrytest.New(t, "")
	ref := host + "/app:1"
	if _, err := resolvetest.Push(ref, resolvetest.Variants); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run(t, "fleet", ref, "--nodes", nodes, "-o", "json")
	if code != 1 || !strings.Contains(errs, "power9 ("+ref+")") {
		t.Fatalf("fleet: exit %d (want 1: power9 gets nothing), stderr %q", code, errs)
	}
	var pls []struct {
		Node      string  `json:"node"`
		Image     string  `json:"image"`
		Digest    *string `json:"digest"`
		Target    string  `json:"target"`
		Reference string  `json:"reference"`
	}
	if err := json.Unmarshal([]byte(out), &pls); err != nil {
		t.Fatalf("fleet -o json: %v\n%s", err, out)
	}
	if len(pls) != len(profiles) {
		t.Fatalf("%d placements, want %d", len(pls), len(profiles))
	}
	for _, pl := range pls {
		want, _, rcode := run(t, "resolve", ref, "--profile", profiles[pl.Node])
		switch {
		case rcode == 1:
			if pl.Digest != nil {
				t.Errorf("%s: fleet gives %s, resolve finds nothing", pl.Node, *pl.Digest)
			}
		case rcode != 0:
			t.Fatalf("resolve --profile %s: exit %d", profiles[pl.Node], rcode)
		case pl.Reference != strings.TrimSpace(want) || pl.Digest == nil || !strings.HasSuffix(want, *pl.Digest+"\n"):
			t.Errorf("%s: fleet gives %s (%s), resolve %s", pl.Node, pl.Reference, pl.Target, want)
		}
	}
	wantTargets := map[string]string{"spr": "skylake_avx512", "zen4": "zen4", "ivb": "generic", "graviton": "generic", "power9": "", "h100": "cuda=sm_90,cuda-version=12.4"}
	for _, pl := range pls {
		if pl.Target != wantTargets[pl.Node] {
			t.Errorf("%s: target %q, want %q", pl.Node, pl.Target, wantTargets[pl.Node])
		}
	}

	// The text table: a row per node, a column per image, and why power9
	// gets nothing.
	out, _, code = run(t, "fleet", ref, "--nodes", nodes)
	if code != 1 {
		t.Errorf("fleet text: exit %d, want 1", code)
	}
	for _, want := range []string{"NODE", "PROFILE", ref, "cpu=zen4", "zen4 sha256:", "none", "power9, " + ref + ": no entry fits: entry 0: platform linux/amd64 does not fit host linux/ppc64le"} {
		if !strings.Contains(out, want) {
			t.Errorf("fleet text lacks %q:\n%s", want, out)
		}
	}
}

func TestFleetCompare(t *testing.T) {
	nodes, _ := fleetFixture(t)
	host := registrytest.New(t, "")
	if _, err := resolvetest.Push(host+"/app:1", resolvetest.Variants); err != nil {
		t.Fatal(err)
	}
	// Version 2 drops the zen4 build and adds a power build.
	v2 := append([]resolvetest.Variant{}, resolvetest.Variants[:3]...)
	v2 = append(v2, resolvetest.Variants[4:]...)
	v2 = append(v2, resolvetest.Variant{Name: "ppc", Arch: "ppc64le"})
	if _, err := resolvetest.Push(host+"/app:2", v2); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run(t, "fleet", "--compare", host+"/app:1", host+"/app:2", "--nodes", nodes)
	if code != 0 {
		t.Fatalf("compare: exit %d: %s", code, errs)
	}
	lines := strings.Split(out, "\n")
	changed := map[string]bool{}
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 0 && strings.HasSuffix(l, "changes") {
			changed[f[0]] = true
		}
	}
	if len(changed) != 2 || !changed["zen4"] || !changed["power9"] {
		t.Errorf("changed nodes %v, want zen4 and power9:\n%s", changed, out)
	}
	if !strings.Contains(out, "2 of 6 nodes change build") {
		t.Errorf("no summary line:\n%s", out)
	}
}

func TestFleetBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, args := range map[string][]string{
		"no nodes flag":   {"fleet", "localhost:1/app:1"},
		"missing file":    {"fleet", "localhost:1/app:1", "--nodes", filepath.Join(dir, "absent")},
		"not json":        {"fleet", "localhost:1/app:1", "--nodes", write("bad", "{{{")},
		"pod list":        {"fleet", "localhost:1/app:1", "--nodes", write("pods", `{"kind":"PodList","items":[]}`)},
		"empty list":      {"fleet", "localhost:1/app:1", "--nodes", write("empty", `{"kind":"List","items":[]}`)},
		"nameless node":   {"fleet", "localhost:1/app:1", "--nodes", write("noname", `{"kind":"List","items":[{"kind":"Node","metadata":{}}]}`)},
		"compare one ref": {"fleet", "--compare", "localhost:1/app:1", "--nodes", write("one", `{"kind":"Node","metadata":{"name":"a"}}`)},
		"bad output":      {"fleet", "localhost:1/app:1", "--nodes", "-", "-o", "yaml"},
	} {
		_, errs, code := run(t, args...)
		if code != 2 || !strings.HasPrefix(errs, "tailor: ") || strings.Count(errs, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and one line", name, code, errs)
		}
	}
}

// TestAffinityCommand: the affinity of an index without a generic entry
// admits, among the fixture's nodes, exactly those tailor fleet places.
func TestAffinityCommand(t *testing.T) {
	nodes, _ := fleetFixture(t)
	host := registrytest.New(t, "")
	ref := host + "/app:nogeneric"
	// Variants without the generic entry: x86_64_v3, skylake_avx512, zen4, arm64 (generic arm64), cuda.
	if _, err := resolvetest.Push(ref, resolvetest.Variants[1:]); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run(t, "affinity", ref, "--nodes", nodes)
	if code != 0 {
		t.Fatalf("affinity: exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "generic entry for arm64") {
		t.Errorf("no note of the generic arm64 entry on stderr: %q", errs)
	}
	for _, want := range []string{"affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n      nodeSelectorTerms:", "tailor.dev/cpu.target.zen4", "# admits 4 of 6 nodes: spr zen4 graviton h100\n", "# not admitted: ivb power9\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("affinity output lacks %q:\n%s", want, out)
		}
	}
	_, errs, code = run(t, "affinity", ref, "-o", "xml")
	if code != 2 {
		t.Errorf("-o xml: exit %d (%s), want 2", code, errs)
	}
}

// nfdHaswell is a Xeon E5-2680 v3 (Haswell) as a stock NFD labels it: its
// default configuration hides SSE4.2, POPCNT, BMI1/2, F16C, RDRAND, ...
func nfdHaswell(name string) kubeNode {
	n := kubeNode{Kind: "Node"}
	n.Metadata.Name = name
	n.Metadata.Labels = map[string]string{
		"kubernetes.io/hostname": name, "kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux",
		"feature.node.kubernetes.io/cpu-model.vendor_id": "Intel",
		"feature.node.kubernetes.io/cpu-model.family":    "6",
		"feature.node.kubernetes.io/cpu-model.id":        "63",
	}
	for _, f := range []string{"AESNI", "AVX", "AVX2", "CMPXCHG8", "FMA3", "FXSR", "FXSROPT", "LAHF", "MOVBE", "OSXSAVE", "SYSCALL", "SYSEE", "X87", "XSAVE", "XSAVEOPT", "VMX"} {
		n.Metadata.Labels["feature.node.kubernetes.io/cpu-cpuid."+f] = "true"
	}
	return n
}

// TestFleetStockNFD: nodes labelled only by a stock NFD are read as their
// core (haswell), said with --explain and in -o json, get the haswell
// build; a label value that means nothing is reported for its node.
func TestFleetStockNFD(t *testing.T) {
	host := registrytest.New(t, "")
	ref := host + "/app:hsw"
	variants := []resolvetest.Variant{
		{Name: "generic", Arch: "amd64"},
		{Name: "v3", Arch: "amd64", Reqs: requirement.Requirements{Target: "x86_64_v3"}},
		{Name: "haswell", Arch: "amd64", Reqs: requirement.Requirements{Target: "haswell"}},
		{Name: "skx", Arch: "amd64", Reqs: requirement.Requirements{Target: "skylake_avx512"}},
	}
	if _, err := resolvetest.Push(ref, variants); err != nil {
		t.Fatal(err)
	}
	odd := nfdHaswell("odd")
	odd.Metadata.Labels["feature.node.kubernetes.io/cpu-cpuid.AVX512F"] = "maybe"
	list := struct {
		Kind  string     `json:"kind"`
		Items []kubeNode `json:"items"`
	}{Kind: "List", Items: []kubeNode{nfdHaswell("hsw-1"), nfdHaswell("hsw-2"), odd}}
	data, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	nodes := filepath.Join(t.TempDir(), "nodes.json")
	if err := os.WriteFile(nodes, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := run(t, "fleet", ref, "--nodes", nodes, "-o", "json")
	if code != 0 {
		t.Fatalf("fleet: exit %d: %s", code, errs)
	}
	var pls []struct {
		Node, Target, Source string
		Inferred, Warnings   []string
	}
	if err := json.Unmarshal([]byte(out), &pls); err != nil {
		t.Fatal(err)
	}
	if len(pls) != 3 {
		t.Fatalf("%d placements, want 3:\n%s", len(pls), out)
	}
	for _, pl := range pls {
		if pl.Target != "haswell" || pl.Source != "nfd" || !strings.Contains(strings.Join(pl.Inferred, ";"), "cpu-model family 6 id 63 is haswell") {
			t.Errorf("%s: target %s from %s, inferred %q; want haswell from nfd, saying cpu-model named it", pl.Node, pl.Target, pl.Source, pl.Inferred)
		}
		if (pl.Node == "odd") != (len(pl.Warnings) == 1) {
			t.Errorf("%s: warnings %q", pl.Node, pl.Warnings)
		}
	}
	out, _, code = run(t, "fleet", ref, "--nodes", nodes, "--explain")
	for _, want := range []string{"odd: label feature.node.kubernetes.io/cpu-cpuid.AVX512F=\"maybe\": want true, ignored", "hsw-1, hsw-2, odd read as cpu=haswell: ", "cpu-model family 6 id 63 is haswell: rdrand from its target"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("fleet --explain (exit %d) lacks %q:\n%s", code, want, out)
		}
	}
	if _, err := resolvetest.Push(host+"/app:nogeneric", variants[1:]); err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, "affinity", host+"/app:nogeneric", "--nodes", nodes)
	if code != 0 || !strings.Contains(out, "hsw-1 (haswell from nfd labels)") {
		t.Errorf("affinity (exit %d) does not name the NFD-only nodes as haswell:\n%s", code, out)
	}
}
