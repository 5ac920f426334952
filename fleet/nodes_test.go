package fleet

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestReadNodesForms: kubectl's List (kind after items, as kubectl prints
// it), a NodeList, a single Node and YAML all read the same; everything but
// names and labels is skipped.
func TestReadNodesForms(t *testing.T) {
	forms := map[string]string{
		"list, kind last": `{"apiVersion":"v1","items":[{"apiVersion":"v1","kind":"Node","metadata":{"name":"a","labels":{"k":"v"}},"status":{"images":[{"names":["x"],"sizeBytes":1}],"conditions":[]}}],"kind":"List","metadata":{"resourceVersion":""}}`,
		"nodelist":        `{"kind":"NodeList","items":[{"metadata":{"name":"a","labels":{"k":"v"}},"spec":{"taints":[{"key":"x"}]}}]}`,
		"node":            `{"kind":"Node","status":{"x":[1,2,{"y":null}]},"metadata":{"labels":{"k":"v"},"name":"a"}}`,
		"yaml":            "kind: List\nitems:\n- metadata:\n    name: a\n    labels: {k: v}\n",
	}
	for name, doc := range forms {
		nodes, err := ReadNodes(strings.NewReader(doc))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(nodes) != 1 || nodes[0].Name != "a" || nodes[0].Labels["k"] != "v" {
			t.Errorf("%s: %+v", name, nodes)
		}
	}
}

// TestReadNodesBounds: a node object over the per-node bound fails as it
// is read, before it is held whole; trailing data, a second document and a
// truncated one are errors.
func TestReadNodesBounds(t *testing.T) {
	huge := io.MultiReader(strings.NewReader(`{"kind":"List","items":[{"metadata":{"name":"a"},"status":{"x":"`),
		&repeatReader{b: 'x', n: 64 << 20}, strings.NewReader(`"}}]}`))
	r := &countingReader{r: huge}
	_, err := ReadNodes(r)
	if !errors.Is(err, ErrNodes) || !strings.Contains(err.Error(), "more than") {
		t.Errorf("huge node: %v", err)
	}
	if r.n > 2*maxNodeSize {
		t.Errorf("read %d bytes of a 64 MiB node before failing, want about %d", r.n, maxNodeSize)
	}
	for name, doc := range map[string]string{
		"trailing":  `{"kind":"Node","metadata":{"name":"a"}} x`,
		"two docs":  `{"kind":"Node","metadata":{"name":"a"}}{"kind":"Node","metadata":{"name":"b"}}`,
		"truncated": `{"kind":"List","items":[{"metadata":{"name":"a"}}`,
		"empty":     "   \n",
		"items obj": `{"kind":"List","items":{}}`,
		"twice":     `{"kind":"List","items":[{"metadata":{"name":"a"}},{"metadata":{"name":"a"}}]}`,
	} {
		if _, err := ReadNodes(strings.NewReader(doc)); !errors.Is(err, ErrNodes) {
			t.Errorf("%s: err %v, want ErrNodes", name, err)
		}
	}
}

type repeatReader struct {
	b byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	copy(p, bytes.Repeat([]byte{r.b}, k))
	r.n -= k
	return k, nil
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestClasses: nodes that differ only in labels matching does not read
// (hostnames, zones) are one class; a label it reads splits them.
func TestClasses(t *testing.T) {
	l := func(extra ...string) map[string]string {
		m := map[string]string{"kubernetes.io/arch": "amd64", "tailor.dev/cpu.target": "zen4"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	nodes := []Node{
		{"a", l("kubernetes.io/hostname", "a", "topology.kubernetes.io/zone", "z1")},
		{"b", l("kubernetes.io/hostname", "b")},
		{"c", l("tailor.dev/label.mpi", "openmpi")},
		{"d", l("feature.node.kubernetes.io/cpu-cpuid.AVX512F", "true")},
		{"e", l("nvidia.com/gpu.compute.major", "9", "nvidia.com/gpu.compute.minor", "0")},
	}
	cs := Classes(nodes)
	if len(cs) != 4 || len(cs[0].Nodes) != 2 || cs[0].Profile.Profile.CPU.Microarchitecture != "zen4" {
		t.Fatalf("classes %+v, want a+b, c, d, e", cs)
	}
	ps := Profiles(nodes)
	if ps[1].Node != "b" || ps[1].Profile != ps[0].Profile || ps[2].Profile.Labels["mpi"] != "openmpi" || len(ps[4].Profile.GPUs) != 1 {
		t.Errorf("profiles %+v", ps)
	}
}
