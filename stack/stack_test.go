package stack

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/requirement"
)

func cpu(name string) Value {
	t := catalog.MustLookup(name)
	return Value{Name: name, Requirements: requirement.Requirements{Target: name}, Arch: t.Architecture()}
}

func label(axis, v string) Value {
	return Value{Name: v, Requirements: requirement.Requirements{Labels: map[string]string{axis: v}}}
}

func cuda(name, version string, archs ...string) Value {
	r := requirement.Requirements{CUDAVersion: version}
	for _, a := range archs {
		c, err := requirement.ParseCUDAArch(a)
		if err != nil {
			panic(err)
		}
		r.CUDA = append(r.CUDA, c)
	}
	return Value{Name: name, Requirements: r}
}

// none is a value that needs nothing.
func none(name string) Value { return Value{Name: name} }

// example is the shape of examples/stack: 3 CPU values × fabric (tcp
// needs nothing), a base, a CPU-only library, the application on both,
// and a configuration per fabric.
func example() Stack {
	return Stack{
		Axes: []Axis{
			{Name: "cpu", Values: []Value{cpu("x86_64"), cpu("x86_64_v3"), cpu("x86_64_v4")}},
			{Name: "fabric", Values: []Value{none("tcp"), label("fabric", "ucx"), label("fabric", "ofi")}},
		},
		Components: []Component{
			{Name: "base"},
			{Name: "num", Varies: []string{"cpu"}},
			{Name: "app", Varies: []string{"cpu", "fabric"}},
			{Name: "conf", Varies: []string{"fabric"}},
		},
	}
}

func names(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return out
}

func buildKeys(bs []Build) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Key
	}
	return out
}

func TestExpand(t *testing.T) {
	for _, tc := range []struct {
		name    string
		edit    func(*Stack)
		entries []string
		builds  []string
	}{
		{"product", func(*Stack) {},
			[]string{"x86_64+tcp", "x86_64+ucx", "x86_64+ofi", "x86_64_v3+tcp", "x86_64_v3+ucx", "x86_64_v3+ofi", "x86_64_v4+tcp", "x86_64_v4+ucx", "x86_64_v4+ofi"},
			[]string{"base", "num[x86_64]", "num[x86_64_v3]", "num[x86_64_v4]",
				"app[x86_64+tcp]", "app[x86_64+ucx]", "app[x86_64+ofi]", "app[x86_64_v3+tcp]", "app[x86_64_v3+ucx]", "app[x86_64_v3+ofi]",
				"app[x86_64_v4+tcp]", "app[x86_64_v4+ucx]", "app[x86_64_v4+ofi]", "conf[tcp]", "conf[ucx]", "conf[ofi]"}},
		{"exclude one cell", func(s *Stack) { s.Exclude = []Rule{{"cpu": {"x86_64"}, "fabric": {"ucx", "ofi"}}} },
			[]string{"x86_64+tcp", "x86_64_v3+tcp", "x86_64_v3+ucx", "x86_64_v3+ofi", "x86_64_v4+tcp", "x86_64_v4+ucx", "x86_64_v4+ofi"},
			[]string{"base", "num[x86_64]", "num[x86_64_v3]", "num[x86_64_v4]",
				"app[x86_64+tcp]", "app[x86_64_v3+tcp]", "app[x86_64_v3+ucx]", "app[x86_64_v3+ofi]",
				"app[x86_64_v4+tcp]", "app[x86_64_v4+ucx]", "app[x86_64_v4+ofi]", "conf[tcp]", "conf[ucx]", "conf[ofi]"}},
		{"exclude with any", func(s *Stack) { s.Exclude = []Rule{{"fabric": {"ofi"}, "cpu": {Any}}} },
			[]string{"x86_64+tcp", "x86_64+ucx", "x86_64_v3+tcp", "x86_64_v3+ucx", "x86_64_v4+tcp", "x86_64_v4+ucx"}, nil},
		{"exclude by arch", func(s *Stack) {
			s.Axes[0].Values = []Value{cpu("x86_64_v3"), cpu("neoverse_v2")}
			s.Axes[1] = Axis{Name: "cuda", Values: []Value{none("none"), cuda("cu124", "12.4", "sm_90")}}
			s.Components = []Component{{Name: "base", PerArch: true}, {Name: "app", Varies: []string{"cpu", "cuda"}}}
			s.Exclude = []Rule{{KeyArch: {"arm64"}, "cuda": {"cu124"}}}
		}, []string{"x86_64_v3+none", "x86_64_v3+cu124", "neoverse_v2+none"},
			[]string{"base[amd64]", "base[arm64]", "app[x86_64_v3+none]", "app[x86_64_v3+cu124]", "app[neoverse_v2+none]"}},
		{"single values name nothing", func(s *Stack) {
			s.Axes = []Axis{{Name: "cpu", Values: []Value{cpu("zen4")}}, {Name: "phase", Values: []Value{label("phase", "serve")}}}
			s.Components = []Component{{Name: "app", Varies: []string{"cpu", "phase"}}}
		}, []string{"zen4"}, []string{"app[zen4+serve]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := example()
			tc.edit(&s)
			m, err := Expand(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(m.Entries); !slices.Equal(got, tc.entries) {
				t.Errorf("entries = %q\nwant %q", got, tc.entries)
			}
			if tc.builds != nil && !slices.Equal(buildKeys(m.Builds), tc.builds) {
				t.Errorf("builds = %q\nwant %q", buildKeys(m.Builds), tc.builds)
			}
			for _, e := range m.Entries {
				if len(e.Builds) != len(s.Components) {
					t.Errorf("entry %s takes %d builds, want one per component (%d)", e.Name, len(e.Builds), len(s.Components))
				}
				for _, k := range e.Builds {
					if b, ok := m.Build(k); !ok || !slices.Contains(b.Entries, e.Name) {
						t.Errorf("entry %s takes build %s, which does not list it (%+v)", e.Name, k, b)
					}
				}
			}
		})
	}
}

// TestExpandShares checks the sharing the stack exists for: the base is
// one build for all, the CPU-only component one per CPU value.
func TestExpandShares(t *testing.T) {
	m, err := Expand(example())
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, b := range m.Builds {
		count[b.Component]++
	}
	if count["base"] != 1 || count["num"] != 3 || count["app"] != 9 || count["conf"] != 3 {
		t.Errorf("builds per component = %v, want base 1, num 3, app 9, conf 3", count)
	}
	if b, _ := m.Build("num[x86_64_v3]"); !slices.Equal(b.Entries, []string{"x86_64_v3+tcp", "x86_64_v3+ucx", "x86_64_v3+ofi"}) {
		t.Errorf("num[x86_64_v3] is taken by %q", b.Entries)
	}
	if m.Naive() != 36 || len(m.Builds) != 16 {
		t.Errorf("naive %d, builds %d; want 36, 16", m.Naive(), len(m.Builds))
	}
}

func TestExpandRequirements(t *testing.T) {
	m, err := Expand(example())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		reqs, variant string
		ann           map[string]string
	}{
		"x86_64+tcp":    {"generic", "", nil},
		"x86_64+ucx":    {"requires=fabric=ucx", "", map[string]string{requirement.AnnotationRequires: "fabric=ucx"}},
		"x86_64_v3+tcp": {"cpu=x86_64_v3", "v3", map[string]string{requirement.AnnotationCPUTarget: "x86_64_v3"}},
		"x86_64_v4+ofi": {"cpu=x86_64_v4,requires=fabric=ofi", "", map[string]string{requirement.AnnotationCPUTarget: "x86_64_v4", requirement.AnnotationRequires: "fabric=ofi"}},
	}
	for _, e := range m.Entries {
		w, ok := want[e.Name]
		if !ok {
			continue
		}
		if e.Requirements.String() != w.reqs || e.Platform.Variant != w.variant || labelsString(e.Annotations) != labelsString(w.ann) {
			t.Errorf("%s: requirements %s, variant %q, annotations %v; want %s, %q, %v", e.Name, e.Requirements, e.Platform.Variant, e.Annotations, w.reqs, w.variant, w.ann)
		}
	}
	if !m.Entries[0].Generic() || m.Entries[1].Generic() {
		t.Errorf("x86_64+tcp should be the one generic entry")
	}
}

func TestUnion(t *testing.T) {
	sm80, _ := requirement.ParseCUDAArch("sm_80")
	sm90, _ := requirement.ParseCUDAArch("sm_90")
	for _, tc := range []struct {
		name string
		in   []requirement.Requirements
		want string
		err  string
	}{
		{"nothing", nil, "generic", ""},
		{"cpu and label", []requirement.Requirements{{Target: "zen4"}, {Labels: map[string]string{"fabric": "ucx"}}}, "cpu=zen4,requires=fabric=ucx", ""},
		{"labels merge", []requirement.Requirements{{Labels: map[string]string{"fabric": "ucx"}}, {Labels: map[string]string{"phase": "train"}}}, "requires=fabric=ucx+phase=train", ""},
		{"same label twice", []requirement.Requirements{{Labels: map[string]string{"mpi": "openmpi"}}, {Labels: map[string]string{"mpi": "openmpi"}}}, "requires=mpi=openmpi", ""},
		{"cuda lists union sorted", []requirement.Requirements{{CUDA: []requirement.CUDAArch{sm90}, CUDAVersion: "12.4"}, {CUDA: []requirement.CUDAArch{sm80, sm90}}}, "cuda=sm_80+sm_90,cuda-version=12.4", ""},
		{"features and rocm", []requirement.Requirements{{Features: []string{"avx2", "fma"}}, {Features: []string{"avx2"}, ROCm: []string{"gfx942", "gfx90a"}}}, "features=avx2+fma,rocm=gfx90a+gfx942", ""},
		{"two targets", []requirement.Requirements{{Target: "zen4"}, {Target: "haswell"}}, "", "two CPU targets"},
		{"two cuda versions", []requirement.Requirements{{CUDAVersion: "12.4"}, {CUDAVersion: "11.8"}}, "", "two CUDA versions"},
		{"label conflict", []requirement.Requirements{{Labels: map[string]string{"fabric": "ucx"}}, {Labels: map[string]string{"fabric": "ofi"}}}, "", "conflict"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Union(tc.in...)
			if tc.err != "" {
				if !errors.Is(err, ErrStack) || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("Union = %v, %v; want ErrStack saying %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Errorf("Union = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestExpandRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, says string
		edit       func(*Stack)
	}{
		{"unknown varies", "no axis", func(s *Stack) { s.Components[1].Varies = []string{"gpu"} }},
		{"duplicate component", "listed twice", func(s *Stack) { s.Components[1].Name = "base" }},
		{"duplicate value", "listed twice", func(s *Stack) { s.Axes[1].Values[2].Name = "ucx" }},
		{"rule on unknown axis", `"phase" is no axis`, func(s *Stack) { s.Exclude = []Rule{{"phase": {"train"}}} }},
		{"rule on unknown value", `no value "x86_64_v9"`, func(s *Stack) { s.Exclude = []Rule{{"cpu": {"x86_64_v9"}}} }},
		{"everything excluded", "leave no entry", func(s *Stack) { s.Exclude = []Rule{{"cpu": {Any}}} }},
		{"empty rule", "empty exclude rule", func(s *Stack) { s.Exclude = []Rule{{}} }},
		{"indistinguishable", "no host could tell them apart", func(s *Stack) { s.Axes[1].Values[1] = none("ucx") }},
		{"conflict", "exclude the combination", func(s *Stack) {
			s.Axes = append(s.Axes, Axis{Name: "net", Values: []Value{label("fabric", "ofi")}})
		}},
		{"no arch", "no value says the architecture", func(s *Stack) { s.Axes = s.Axes[1:]; s.Components = s.Components[3:] }},
		{"bad label value", "label", func(s *Stack) { s.Axes[1].Values[1] = label("fabric", "a,b") }},
		{"too many combinations", "more than 4096", func(s *Stack) {
			for i := range 5 {
				a := Axis{Name: fmt.Sprintf("l%d", i)}
				for j := range 6 {
					a.Values = append(a.Values, label(a.Name, fmt.Sprint(j)))
				}
				s.Axes = append(s.Axes, a)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := example()
			tc.edit(&s)
			m, err := Expand(s)
			if !errors.Is(err, ErrStack) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("Expand = %v, %v; want ErrStack saying %q", m, err, tc.says)
			}
		})
	}
}

func host(t *testing.T, spec string) Host {
	t.Helper()
	p, err := profile.ParseSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	return Host{Name: spec, Profile: p}
}

func TestPrune(t *testing.T) {
	full, err := Expand(example())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		hosts    []string
		kept     []string
		given    []string
		unserved []string
		builds   []string
	}{
		{"no hosts keep the generic entry", nil, []string{"x86_64+tcp"}, nil, nil,
			[]string{"base", "num[x86_64]", "app[x86_64+tcp]", "conf[tcp]"}},
		{"haswell with ucx and a zen4 without labels",
			[]string{"cpu=haswell,label.fabric=ucx", "cpu=zen4"},
			[]string{"x86_64+tcp", "x86_64_v3+ucx", "x86_64_v4+tcp"},
			[]string{"x86_64_v3+ucx", "x86_64_v4+tcp"}, nil,
			[]string{"base", "num[x86_64]", "num[x86_64_v3]", "num[x86_64_v4]", "app[x86_64+tcp]", "app[x86_64_v3+ucx]", "app[x86_64_v4+tcp]", "conf[tcp]", "conf[ucx]"}},
		{"a label no entry requires still gets the tcp build",
			[]string{"cpu=skylake_avx512,label.fabric=verbs"}, []string{"x86_64+tcp", "x86_64_v4+tcp"}, []string{"x86_64_v4+tcp"}, nil, nil},
		{"an arm64 host gets nothing", []string{"cpu=neoverse_v2"}, []string{"x86_64+tcp"}, []string{""}, []string{"cpu=neoverse_v2"}, nil},
		{"two hosts one entry", []string{"cpu=zen3,label.fabric=ofi", "cpu=haswell,label.fabric=ofi"}, []string{"x86_64+tcp", "x86_64_v3+ofi"}, []string{"x86_64_v3+ofi", "x86_64_v3+ofi"}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hosts []Host
			for _, h := range tc.hosts {
				hosts = append(hosts, host(t, h))
			}
			m, p, err := Prune(full, hosts)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(m.Entries); !slices.Equal(got, tc.kept) || !slices.Equal(p.Kept, tc.kept) {
				t.Errorf("kept %q (%q), want %q", got, p.Kept, tc.kept)
			}
			if len(p.Kept)+len(p.Pruned) != len(full.Entries) {
				t.Errorf("kept %d + pruned %d != %d entries", len(p.Kept), len(p.Pruned), len(full.Entries))
			}
			var given []string
			for _, a := range p.Given {
				given = append(given, a.Entry)
			}
			if !slices.Equal(given, tc.given) || !slices.Equal(p.Unserved(), tc.unserved) {
				t.Errorf("given %q, unserved %q; want %q, %q", given, p.Unserved(), tc.given, tc.unserved)
			}
			if tc.builds != nil && !slices.Equal(buildKeys(m.Builds), tc.builds) {
				t.Errorf("builds %q\nwant %q", buildKeys(m.Builds), tc.builds)
			}
		})
	}
}
