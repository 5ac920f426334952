package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
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

const stackFile = "../../examples/stack/tailor.yaml"

// copyStack copies examples/stack into a temporary directory, for tests
// that change a component.
func copyStack(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "stack")
	err := filepath.WalkDir("../../examples/stack", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("../../examples/stack", p)
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
func buildStack(t *testing.T, file, dest string) (string, reportJSON) {
	t.Helper()
	code, out, errs := runCLI(t, "build", "-f", file, "--dest", dest, "-j2", "-o", "json")
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
	buildStack(t, file, host+"/numstack:1")
	p := plan(t, "-f", file)
	layoutDir := filepath.Join(t.TempDir(), "layout")
	buildStack(t, file, "oci:"+layoutDir+":1")

	// The ucx configuration: only the ucx entries, only conf.
	conf := filepath.Join(dir, "conf/ucx/etc/numstack/fabric.conf")
	if err := os.WriteFile(conf, []byte("transport=ucx\nUCX_TLS=dc,sm,self\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	buildStack(t, file, host+"/numstack:2")
	buildStack(t, file, "oci:"+layoutDir+":2")
	// The library: every entry, num and the application linked with it.
	lib := filepath.Join(dir, "num/num.c")
	src, _ := os.ReadFile(lib)
	if err := os.WriteFile(lib, append(src, []byte("\nint num_version(void) { return 2; }\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	buildStack(t, file, host+"/numstack:3")

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
