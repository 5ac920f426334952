package fleet

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkPlan1000 plans one index (30 entries) for a fleet of 1000
// nodes (the corpus CPUs and GPU nodes, repeated): one manifest fetch,
// 1000 profiles read back from labels, 1000 matches.
func BenchmarkPlan1000(b *testing.B) {
	base, _ := testFleet(b)
	nodes := make([]Node, 0, 1000)
	for i := 0; len(nodes) < 1000; i++ {
		n := base[i%len(base)]
		nodes = append(nodes, Node{Name: fmt.Sprintf("%s-%d", n.Name, i), Labels: n.Labels})
	}
	c, mixedRef, _ := pushIndexes(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Plan(ctx, c, []string{mixedRef}, nodes); err != nil {
			b.Fatal(err)
		}
	}
}
