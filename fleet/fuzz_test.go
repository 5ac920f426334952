package fleet

import (
	"errors"
	"testing"
)

// FuzzParseNodes: any document gives nodes with names, or ErrNodes; never
// a panic.
func FuzzParseNodes(f *testing.F) {
	f.Add([]byte(`{"kind":"List","items":[{"kind":"Node","metadata":{"name":"n1","labels":{"tailor.dev/cpu.target":"zen4"}}}]}`))
	f.Add([]byte(`{"kind":"Node","metadata":{"name":"n1"}}`))
	f.Add([]byte("kind: NodeList\nitems:\n- metadata: {name: a, labels: {kubernetes.io/arch: arm64}}\n"))
	f.Add([]byte(`{"kind":"List","items":[{"kind":"Pod","metadata":{"name":"p"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		nodes, err := ParseNodes(data)
		if err != nil {
			if !errors.Is(err, ErrNodes) {
				t.Fatalf("error %v is not ErrNodes", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, n := range nodes {
			if n.Name == "" || seen[n.Name] {
				t.Fatalf("node %q empty or listed twice", n.Name)
			}
			seen[n.Name] = true
		}
		Profiles(nodes) // reading labels back must not panic either
	})
}
