package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"syscall"
	"testing"
	"time"
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

// kubeNodesJSON writes n nodes as `kubectl get nodes -o json` prints them,
// status included (conditions, addresses, capacity, images: most of a real
// node's bytes, about 4 KB here). Node i has the labels of base[i%classes];
// with distinct, every node also carries its own tailor.dev/label.rack, so
// every node is a class of its own.
func kubeNodesJSON(tb testing.TB, base []Node, n, classes int, distinct bool) []byte {
	tb.Helper()
	type image struct {
		Names     []string `json:"names"`
		SizeBytes int64    `json:"sizeBytes"`
	}
	type node struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   map[string]any `json:"metadata"`
		Spec       map[string]any `json:"spec"`
		Status     map[string]any `json:"status"`
	}
	var items []node
	for i := range n {
		b := base[i%classes]
		labels := maps.Clone(b.Labels)
		name := fmt.Sprintf("node-%05d", i)
		labels["kubernetes.io/hostname"] = name
		labels["topology.kubernetes.io/zone"] = fmt.Sprintf("zone-%d", i%3)
		if distinct {
			labels["tailor.dev/label.rack"] = fmt.Sprintf("r%d", i)
		}
		var images []image
		for j := range 12 {
			images = append(images, image{Names: []string{fmt.Sprintf("registry.example/team-%d/service-%d@sha256:%064x", j, i%7, i*31+j), fmt.Sprintf("registry.example/team-%d/service-%d:v1.%d", j, i%7, j)}, SizeBytes: int64(1e6 * (j + 1))})
		}
		var conds []map[string]any
		for _, c := range []string{"MemoryPressure", "DiskPressure", "PIDPressure", "Ready"} {
			conds = append(conds, map[string]any{"type": c, "status": "False", "lastHeartbeatTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z", "reason": "Kubelet" + c, "message": "kubelet has no " + c})
		}
		items = append(items, node{APIVersion: "v1", Kind: "Node",
			Metadata: map[string]any{"name": name, "labels": labels, "uid": fmt.Sprintf("%032x", i), "resourceVersion": "12345", "creationTimestamp": "2026-01-01T00:00:00Z",
				"annotations": map[string]string{"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
			Spec: map[string]any{"podCIDR": "10.244.0.0/24", "podCIDRs": []string{"10.244.0.0/24"}, "providerID": "aws:///us-east-1a/i-" + name},
			Status: map[string]any{
				"addresses":   []map[string]string{{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname", "address": name}},
				"capacity":    map[string]string{"cpu": "64", "memory": "263518124Ki", "pods": "110", "ephemeral-storage": "1055762868Ki"},
				"allocatable": map[string]string{"cpu": "63", "memory": "262518124Ki", "pods": "110", "ephemeral-storage": "972991057538"},
				"conditions":  conds, "images": images,
				"nodeInfo": map[string]string{"architecture": "amd64", "containerRuntimeVersion": "containerd://1.7.20", "kernelVersion": "6.1.0", "kubeletVersion": "v1.31.0", "osImage": "Debian GNU/Linux 12 (bookworm)", "operatingSystem": "linux"},
			}})
	}
	data, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]string{"resourceVersion": ""}, "items": items})
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// fleetClasses are 20 distinct kinds of node from the test fleet.
func fleetClasses(tb testing.TB) []Node {
	tb.Helper()
	base, _ := testFleet(tb)
	slices.SortFunc(base, func(a, b Node) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	if len(base) < 20 {
		tb.Fatalf("test fleet has %d nodes, want 20", len(base))
	}
	return base[:20]
}

// cpuTime is this process's user+system CPU time so far (rusage).
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFleet reads a `kubectl get nodes -o json` document and plans
// the mixed index (30 entries) for it: 100, 1,000 and 10,000 nodes of 20
// classes, and 100 and 1,000 nodes each of a class of its own (what a node
// of a new class costs). It reports CPU time (rusage, user+system) per
// operation beside the wall time. bench/README.md derives from one run
// what an extra node of a known class costs against one of a new class.
func BenchmarkFleet(b *testing.B) {
	base := fleetClasses(b)
	c, mixedRef, _ := pushIndexes(b)
	ctx := context.Background()
	for _, tc := range []struct {
		nodes    int
		distinct bool
	}{{100, false}, {1000, false}, {10000, false}, {100, true}, {1000, true}} {
		name := fmt.Sprintf("nodes=%d/classes=20", tc.nodes)
		if tc.distinct {
			name = fmt.Sprintf("nodes=%d/classes=%d", tc.nodes, tc.nodes)
		}
		data := kubeNodesJSON(b, base, tc.nodes, 20, tc.distinct)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			start := cpuTime(b)
			for b.Loop() {
				nodes, err := ParseNodes(data)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Plan(ctx, c, []string{mixedRef}, nodes); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
		})
	}
}
