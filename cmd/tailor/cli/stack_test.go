package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/stack"
)

const stackFile = "../../../examples/stack/tailor.yaml"

// copyStack copies examples/stack into a temporary directory, for tests
// that change a component.
func copyStack(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "stack")
	err := filepath.WalkDir("../../../examples/stack", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("../../../examples/stack", p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dst, "tailor.yaml")
}

// planJSON is the part of build --plan -o json the tests read.
type planJSON struct {
	Axes []struct {
		Name   string   `json:"name"`
		Values []string `json:"values"`
	} `json:"axes"`
	Entries []struct {
		Name   string            `json:"name"`
		Builds map[string]string `json:"builds"`
	} `json:"entries"`
	Builds []struct {
		Key, Component, Kind string
		Entries              []string
	} `json:"builds"`
	Layers  int `json:"layers"`
	Skipped []struct{ Axis, Value, Reason string }
	Pruning *struct {
		Given  []struct{ Host, Entry string } `json:"given"`
		Kept   []string                       `json:"kept"`
		Pruned []string                       `json:"pruned"`
	} `json:"pruning"`
}

func plan(t *testing.T, args ...string) planJSON {
	t.Helper()
	code, out, errs := runCLI(t, append([]string{"build", "--plan", "-o", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("build --plan: exit %d: %s", code, errs)
	}
	var p planJSON
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("build --plan -o json: %v\n%s", err, out)
	}
	return p
}

func (p planJSON) axis(name string) []string {
	for _, a := range p.Axes {
		if a.Name == name {
			return a.Values
		}
	}
	return nil
}

// buildStack runs tailor build -o json and returns the printed reference
// and report.
// noVerify leaves out tailor verify's runs of every entry under qemu in
// the tests whose subject is not verification (TestStackExample and the
// verify tests keep them): half of a stack build's time.
const noVerify = "--verify=false"

func buildStack(t *testing.T, file, dest string, extra ...string) (string, reportJSON) {
	t.Helper()
	code, out, errs := runCLI(t, append([]string{"build", "-f", file, "--dest", dest, "-j2", "-o", "json"}, extra...)...)
	if code != 0 {
		t.Fatalf("build %s: exit %d\n%s", file, code, errs)
	}
	var r struct {
		Reference string     `json:"reference"`
		Report    reportJSON `json:"report"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("build -o json: %v\n%s", err, out)
	}
	return r.Reference, r.Report
}

type reportJSON struct {
	Entries []struct {
		Name   string `json:"name"`
		Digest string `json:"digest"`
		Layers int    `json:"layers"`
	} `json:"entries"`
	Layers       int   `json:"layers"`
	UniqueLayers int   `json:"unique_layers"`
	StoredBytes  int64 `json:"stored_bytes"`
	NaiveBytes   int64 `json:"naive_bytes"`
}

// TestStackExample is the acceptance test of stacks (issue 12, "Done
// when"): the example builds into an OCI layout with ≥ 6 entries of the
// same ≥ 3 layers, the base layer one blob for all, the CPU-only
// component one layer per CPU value, fewer distinct layers than entries
// × layers, entries on ≥ 3 CPU targets and ≥ 2 dev.tailor.requires
// values; two profiles that differ only in the label resolve to two
// entries; a rebuild gives the same digests and pushes nothing.
func TestStackExample(t *testing.T) {
	needCC(t)
	p := plan(t, "-f", stackFile)
	cpus := p.axis("cpu")
	dir := filepath.Join(t.TempDir(), "numstack")
	ref, rep := buildStack(t, stackFile, "oci:"+dir)
	if !strings.HasPrefix(ref, "oci:"+dir+"@sha256:") {
		t.Fatalf("build printed %q, want oci:DIR@sha256:...", ref)
	}
	idx := layoutStack(t, dir, "1.0")
	if len(idx.entries) < 6 || len(idx.entries) != len(p.Entries) || len(rep.Entries) != len(idx.entries) {
		t.Fatalf("%d entries in the layout, %d planned, %d reported; want the same, at least 6", len(idx.entries), len(p.Entries), len(rep.Entries))
	}
	layers := len(idx.entries[0].layers)
	baseBlobs, numBlobs, unique := map[v1.Hash]bool{}, map[v1.Hash]bool{}, map[v1.Hash]bool{}
	targets, requires := map[string]bool{}, map[string]bool{}
	for _, e := range idx.entries {
		if len(e.layers) != layers || layers < 3 {
			t.Errorf("entry %s has %d layers, the first %d; want the same, at least 3", e.name, len(e.layers), layers)
		}
		for _, l := range e.layers {
			unique[l.Digest] = true
			switch l.Annotations[stack.AnnotationComponent] {
			case "base":
				baseBlobs[l.Digest] = true
			case "num":
				numBlobs[l.Digest] = true
			}
		}
		r, err := requirement.FromDescriptor(e.desc)
		if err != nil {
			t.Fatal(err)
		}
		targets[r.Target] = true
		if v := e.desc.Annotations[requirement.AnnotationRequires]; v != "" {
			requires[v] = true
		}
	}
	if len(baseBlobs) != 1 {
		t.Errorf("the base component is %d blobs, want one shared by all", len(baseBlobs))
	}
	if len(cpus) < 3 || len(numBlobs) != len(cpus) {
		t.Errorf("the CPU-only component num has %d distinct layers for %d CPU values %v, want as many (at least 3)", len(numBlobs), len(cpus), cpus)
	}
	if len(unique) >= len(idx.entries)*layers || rep.UniqueLayers != len(unique) || rep.Layers != len(idx.entries)*layers {
		t.Errorf("%d distinct layers (reported %d) for %d entries × %d layers (reported %d)", len(unique), rep.UniqueLayers, len(idx.entries), layers, rep.Layers)
	}
	if rep.StoredBytes >= rep.NaiveBytes {
		t.Errorf("stored %d bytes, naive %d: sharing saved nothing", rep.StoredBytes, rep.NaiveBytes)
	}
	if len(targets) < 3 || len(requires) < 2 {
		t.Errorf("entries differ on CPU targets %v and dev.tailor.requires %v, want at least 3 and 2", targets, requires)
	}

	// A rebuild with no change: the same bytes, and a push that sends nothing.
	ref2, _ := buildStack(t, stackFile, "oci:"+filepath.Join(t.TempDir(), "again"))
	if digestOf(ref2) != digestOf(ref) {
		t.Errorf("rebuild gave index %s, the first build %s", digestOf(ref2), digestOf(ref))
	}
	host := registrytest.New(t, "")
	proxy, writes := countingProxy(t, host)
	pushed, _ := buildStack(t, stackFile, proxy+"/numstack:1.0")
	if digestOf(pushed) != digestOf(ref) || writes.Load() == 0 {
		t.Fatalf("pushed %s with %d writes, want %s", pushed, writes.Load(), digestOf(ref))
	}
	writes.Store(0)
	if again, _ := buildStack(t, stackFile, proxy+"/numstack:1.0"); digestOf(again) != digestOf(ref) || writes.Load() != 0 {
		t.Errorf("rebuild pushed %s with %d writes (POST, PUT, PATCH), want %s and none", again, writes.Load(), digestOf(ref))
	}

	// Two hosts that differ only in the label get two entries.
	got := map[string]string{}
	for _, fabric := range []string{"ucx", "ofi"} {
		code, out, errs := runCLI(t, "resolve", "oci:"+dir, "--profile", "cpu=haswell,label.fabric="+fabric)
		if code != 0 {
			t.Fatalf("resolve fabric=%s: exit %d: %s", fabric, code, errs)
		}
		got[fabric] = strings.TrimSpace(out)
	}
	if got["ucx"] == got["ofi"] || idx.name(digestOf(got["ucx"])) != "x86_64_v3+ucx" || idx.name(digestOf(got["ofi"])) != "x86_64_v3+ofi" {
		t.Errorf("resolve for fabric=ucx and fabric=ofi: %v (%s, %s), want x86_64_v3+ucx and x86_64_v3+ofi", got, idx.name(digestOf(got["ucx"])), idx.name(digestOf(got["ofi"])))
	}
}

// TestStackDiff changes one component of a copy of the example and checks
// stack diff names exactly the entries that contain the change, with the
// components it touched.
func TestStackDiff(t *testing.T) {
	needCC(t)
	host := registrytest.New(t, "")
	file := copyStack(t)
	dir := filepath.Dir(file)
	buildStack(t, file, host+"/numstack:1", noVerify)
	p := plan(t, "-f", file)
	layoutDir := filepath.Join(t.TempDir(), "layout")
	buildStack(t, file, "oci:"+layoutDir+":1", noVerify)

	// The ucx configuration: only the ucx entries, only conf.
	conf := filepath.Join(dir, "conf/ucx/etc/numstack/fabric.conf")
	if err := os.WriteFile(conf, []byte("transport=ucx\nUCX_TLS=dc,sm,self\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	buildStack(t, file, host+"/numstack:2", noVerify)
	buildStack(t, file, "oci:"+layoutDir+":2", noVerify)
	// The library: every entry, num and the application linked with it.
	lib := filepath.Join(dir, "num/num.c")
	src, _ := os.ReadFile(lib)
	if err := os.WriteFile(lib, append(src, []byte("\nint num_version(void) { return 2; }\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	buildStack(t, file, host+"/numstack:3", noVerify)

	var ucx, all []string
	for _, e := range p.Entries {
		all = append(all, e.Name)
		if strings.HasSuffix(e.Name, "+ucx") {
			ucx = append(ucx, e.Name)
		}
	}
	reg, lay := host+"/numstack:", "oci:"+layoutDir+":"
	for _, tc := range []struct {
		old, new   string
		entries    []string
		components []string
	}{
		{reg + "1", reg + "2", ucx, []string{"conf"}},
		{reg + "2", reg + "3", all, []string{"num", "app"}},
		{reg + "1", reg + "1", nil, nil},
		{lay + "1", lay + "2", ucx, []string{"conf"}},
		{lay + "2", reg + "3", all, []string{"num", "app"}},
	} {
		code, out, errs := runCLI(t, "stack", "diff", tc.old, tc.new, "-o", "json")
		if code != 0 {
			t.Fatalf("stack diff: exit %d: %s", code, errs)
		}
		var d stack.Difference
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		var changed []string
		for _, c := range d.Changed {
			changed = append(changed, c.Name)
			if !slices.Equal(c.Components, tc.components) {
				t.Errorf("%s -> %s: %s changed in %v, want %v", tc.old, tc.new, c.Name, c.Components, tc.components)
			}
		}
		slices.Sort(changed)
		want := slices.Sorted(slices.Values(tc.entries))
		if !slices.Equal(changed, want) || len(d.Added)+len(d.Removed) != 0 || len(d.Unchanged)+len(changed) != len(all) {
			t.Errorf("%s -> %s: changed %v, added %v, removed %v, %d unchanged; want changed %v", tc.old, tc.new, changed, d.Added, d.Removed, len(d.Unchanged), want)
		}
	}
	code, out, _ := runCLI(t, "stack", "diff", host+"/numstack:1", host+"/numstack:2")
	if code != 0 || !strings.Contains(out, "changed    x86_64_v3+ucx: conf\n") || !strings.Contains(out, "unchanged  5 entries\n") {
		t.Errorf("stack diff text: exit %d\n%s", code, out)
	}
}

// stackIndex is a built index read from a layout.
type stackIndex struct{ entries []stackEntry }

type stackEntry struct {
	name   string
	desc   v1.Descriptor
	layers []v1.Descriptor
}

func (x stackIndex) name(digest string) string {
	for _, e := range x.entries {
		if e.desc.Digest.String() == digest {
			return e.name
		}
	}
	return ""
}

// layoutStack reads the index tagged tag in the layout at dir, and each
// entry's manifest.
func layoutStack(t *testing.T, dir, tag string) stackIndex {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	top, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, _ := top.IndexManifest()
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != tag {
		t.Fatalf("%s/index.json = %+v, want one index tagged %s", dir, im.Manifests, tag)
	}
	idx, err := top.ImageIndex(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := idx.IndexManifest()
	var out stackIndex
	for _, d := range m.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		mf, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		out.entries = append(out.entries, stackEntry{name: mf.Annotations[stack.AnnotationEntry], desc: d, layers: mf.Layers})
	}
	return out
}

func digestOf(ref string) string { return ref[strings.LastIndex(ref, "@")+1:] }

// countingProxy forwards to the registry at host and counts the requests
// that write (POST, PUT, PATCH).
func countingProxy(t *testing.T, host string) (string, *atomic.Int64) {
	t.Helper()
	var writes atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			writes.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), &writes
}

// TestBuildPlan checks --plan without building: text and JSON agree with
// the example (7 entries of 4 components, 14 builds), and the skipped
// optional CPU value is listed with its reason.
func TestBuildPlan(t *testing.T) {
	needCC(t)
	p := plan(t, "-f", stackFile)
	if len(p.Entries) < 7 || p.Layers != 4*len(p.Entries) || len(p.Builds) >= p.Layers {
		t.Errorf("plan: %d entries, %d layers, %d builds", len(p.Entries), p.Layers, len(p.Builds))
	}
	if e := p.Entries[0]; e.Name != "x86_64+tcp" || e.Builds["num"] != "num[x86_64]" || e.Builds["base"] != "base" || e.Builds["conf"] != "conf[tcp]" {
		t.Errorf("first entry %+v", e)
	}
	code, out, errs := runCLI(t, "build", "-f", stackFile, "--plan")
	if code != 0 {
		t.Fatalf("build --plan: exit %d: %s", code, errs)
	}
	for _, w := range []string{"entries × 4 components: ",
		"x86_64_v3+ucx  linux/amd64     cpu=x86_64_v3,requires=fabric=ucx  base  num[x86_64_v3]  app[x86_64_v3+ucx]  conf[ucx]",
		"num[x86_64_v3]      command  3", "excluded  x86_64+ucx (rule cpu=x86_64,fabric=ucx|ofi)"} {
		if !strings.Contains(out, w) {
			t.Errorf("build --plan lacks %q:\n%s", w, out)
		}
	}
	_, cross := exec.LookPath("aarch64-linux-gnu-gcc")
	if cross != nil && !strings.Contains(out, "skipped   cpu=neoverse_n1 (optional): missing toolchain: no C compiler for arm64") {
		t.Errorf("build --plan does not say why neoverse_n1 is skipped:\n%s", out)
	}
}

// TestBuildProfiles prunes the example to a fleet: only the entries some
// host gets, plus the generic one, are planned and built.
func TestBuildProfiles(t *testing.T) {
	needCC(t)
	fleet := filepath.Join(t.TempDir(), "fleet.txt")
	host := `{"os":"linux","architecture":"amd64","cpu":{"microarchitecture":"zen4"},"labels":{"fabric":"ofi"}}`
	if err := os.WriteFile(fleet, []byte("# two kinds of nodes\ncpu=haswell,label.fabric=ucx\n"+host+"\ncpu=neoverse_v2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := plan(t, "-f", stackFile, "--profiles", fleet)
	if p.Pruning == nil || !slices.Equal(p.Pruning.Kept, []string{"x86_64+tcp", "x86_64_v3+ucx", "x86_64_v4+ofi"}) {
		t.Fatalf("pruning %+v, want x86_64+tcp, x86_64_v3+ucx, x86_64_v4+ofi kept", p.Pruning)
	}
	var given []string
	for _, g := range p.Pruning.Given {
		given = append(given, g.Entry)
	}
	if !slices.Equal(given, []string{"x86_64_v3+ucx", "x86_64_v4+ofi", ""}) || len(p.Entries) != 3 || len(p.Builds) != 1+3+3+3 {
		t.Errorf("given %q, %d entries, %d builds; want 3 entries, 10 builds", given, len(p.Entries), len(p.Builds))
	}
	code, out, errs := runCLI(t, "build", "-f", stackFile, "--profiles", fleet, "--plan")
	if code != 0 || !strings.Contains(out, "pruned    x86_64_v3+tcp: no host of the fleet would be given it") ||
		!strings.Contains(out, "host      cpu=neoverse_v2 -> nothing fits") {
		t.Errorf("build --profiles --plan: exit %d\n%s%s", code, out, errs)
	}
	_, rep := buildStack(t, stackFile, "oci:"+filepath.Join(t.TempDir(), "pruned"), "--profiles", fleet)
	var built []string
	for _, e := range rep.Entries {
		built = append(built, e.Name)
	}
	if !slices.Equal(built, p.Pruning.Kept) {
		t.Errorf("build --profiles built %q, want %q", built, p.Pruning.Kept)
	}
}

// stackFileWith writes a copy of the example whose tailor.yaml is yaml.
func stackFileWith(t *testing.T, yaml string) string {
	t.Helper()
	f := copyStack(t)
	if err := os.WriteFile(f, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestBuildStackBadInput(t *testing.T) {
	needCC(t)
	dir := t.TempDir()
	fleet := filepath.Join(dir, "fleet.txt")
	os.WriteFile(fleet, []byte("cpu=zen4\ncpu=pentium9000\n"), 0o644)
	const axes = "axes: {cpu: [x86_64], fabric: [tcp]}\n"
	for _, tc := range []struct {
		name string
		args []string
		env  string
		code int
		says string
	}{
		{"varies on no axis", []string{"-f", stackFileWith(t, axes+"components: [{name: a, dir: base, varies: [phase]}]\n")}, "", exitUsage, `varies on "phase", which is no axis`},
		{"missing dir", []string{"-f", stackFileWith(t, axes+"components: [{name: a, dir: nosuch}]\n")}, "", exitUsage, "nosuch is no directory"},
		{"bad fleet line", []string{"-f", stackFile, "--profiles", fleet}, "", exitUsage, "line 2"},
		{"no fleet file", []string{"-f", stackFile, "--profiles", filepath.Join(dir, "none")}, "", exitUsage, "--profiles"},
		{"bad output", []string{"-f", stackFile, "-o", "yaml"}, "", exitUsage, `-o "yaml"`},
		{"bake of a stack", []string{"-f", stackFile, "--emit-bake"}, "", exitUsage, "cannot be written as a bake file"},
		{"digest dest", []string{"-f", stackFile, "--dest", "oci:" + dir + "@sha256:" + strings.Repeat("0", 64)}, "", exitUsage, "under a tag"},
		{"bad epoch", []string{"-f", stackFile}, "yesterday", exitUsage, "SOURCE_DATE_EPOCH"},
		{"failing component", []string{"-f", stackFileWith(t, axes+"components: [{name: a, varies: [cpu], command: 'echo app.c:1: error: boom >&2; exit 1'}]\n")}, "", exitFailure, "building a[x86_64] failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("SOURCE_DATE_EPOCH", tc.env)
			}
			dest := filepath.Join(t.TempDir(), "out")
			args := append([]string{"build", "--dest", "oci:" + dest}, tc.args...)
			if slices.Contains(tc.args, "--dest") {
				args = append([]string{"build"}, tc.args...)
			}
			code, out, errs := runCLI(t, args...)
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(errs), "\n") {
				if strings.HasPrefix(l, "tailor: ") {
					lines = append(lines, l)
				}
			}
			if code != tc.code || out != "" || len(lines) != 1 || !strings.Contains(lines[0], tc.says) || strings.Contains(errs, "panic") {
				t.Errorf("build %v: exit %d, stdout %q, stderr:\n%s\nwant exit %d and one tailor: line saying %q", tc.args, code, out, errs, tc.code, tc.says)
			}
			if _, err := os.Stat(dest); err == nil {
				t.Errorf("build %v wrote %s", tc.args, dest)
			}
		})
	}
}

// TestBuildLogs: a build leaves no log directory behind, unless it
// failed (then the error names the log) or --log-dir chose where.
func TestBuildLogs(t *testing.T) {
	needCC(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	leftovers := func() []string {
		m, _ := filepath.Glob(filepath.Join(tmp, "tailor-build*"))
		return m
	}
	buildStack(t, stackFile, "oci:"+filepath.Join(t.TempDir(), "ok"), noVerify)
	if l := leftovers(); len(l) != 0 {
		t.Errorf("a successful build left %v", l)
	}
	keep := filepath.Join(t.TempDir(), "logs")
	buildStack(t, stackFile, "oci:"+filepath.Join(t.TempDir(), "ok2"), "--log-dir", keep, noVerify)
	commands := 0
	for _, b := range plan(t, "-f", stackFile).Builds {
		if b.Kind == "command" {
			commands++
		}
	}
	if logs, _ := filepath.Glob(filepath.Join(keep, "*.log")); len(logs) != commands || commands == 0 {
		t.Errorf("--log-dir kept %d logs, want one per command build (%d): %v", len(logs), commands, logs)
	}
	f := stackFileWith(t, "axes: {cpu: [x86_64]}\ncomponents: [{name: a, varies: [cpu], command: 'echo boom >&2; exit 1'}]\n")
	code, _, errs := runCLI(t, "build", "-f", f, "--dest", "oci:"+filepath.Join(t.TempDir(), "bad"))
	l := leftovers()
	if code != exitFailure || len(l) != 1 || !strings.Contains(errs, filepath.Join(l[0], "a-x86_64.log")) {
		t.Fatalf("failed build: exit %d, left %v, stderr:\n%s\nwant its logs kept and named", code, l, errs)
	}
	if b, err := os.ReadFile(filepath.Join(l[0], "a-x86_64.log")); err != nil || !strings.Contains(string(b), "boom") {
		t.Errorf("the failed build's log: %q, %v", b, err)
	}
}
