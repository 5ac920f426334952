package fleet

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tailor-dev/tailor/nfd"
	"github.com/tailor-dev/tailor/profile"
	"sigs.k8s.io/yaml"
)

// ErrNodes is returned (wrapped) for a nodes document that cannot be read.
var ErrNodes = errors.New("bad nodes document")

// MaxNodesSize bounds the nodes document ParseNodes reads.
const MaxNodesSize = 64 << 20

// Node is a cluster node: its name and labels.
type Node struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

// object is the part of a Kubernetes object or list ParseNodes reads.
type object struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Items []object `json:"items"`
}

// ParseNodes reads what `kubectl get nodes -o json` (or -o yaml) prints: a
// List or NodeList of Nodes, or a single Node.
func ParseNodes(data []byte) ([]Node, error) {
	if len(data) > MaxNodesSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrNodes, len(data), MaxNodesSize)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%w: not JSON or YAML: %w", ErrNodes, err)
	}
	var o object
	if err := json.Unmarshal(js, &o); err != nil {
		return nil, fmt.Errorf("%w: want `kubectl get nodes -o json` output: %w", ErrNodes, err)
	}
	items := o.Items
	switch o.Kind {
	case "Node":
		items = []object{o}
	case "List", "NodeList":
	default:
		return nil, fmt.Errorf("%w: kind %q, want List, NodeList or Node (the output of kubectl get nodes -o json)", ErrNodes, o.Kind)
	}
	seen := map[string]bool{}
	nodes := make([]Node, 0, len(items))
	for i, it := range items {
		if it.Kind != "" && it.Kind != "Node" {
			return nil, fmt.Errorf("%w: item %d is a %s, not a Node", ErrNodes, i, it.Kind)
		}
		if it.Metadata.Name == "" {
			return nil, fmt.Errorf("%w: item %d has no metadata.name", ErrNodes, i)
		}
		if seen[it.Metadata.Name] {
			return nil, fmt.Errorf("%w: node %q listed twice", ErrNodes, it.Metadata.Name)
		}
		seen[it.Metadata.Name] = true
		nodes = append(nodes, Node{Name: it.Metadata.Name, Labels: it.Metadata.Labels})
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%w: no nodes", ErrNodes)
	}
	return nodes, nil
}

// NodeProfile is a node's host profile as its labels describe it.
type NodeProfile struct {
	Node    string
	Profile *profile.Profile
	// Source says which labels the CPU was read from.
	Source nfd.Source
	// Err says why the labels describe no usable profile.
	Err error
}

// Profiles reads each node's profile from its labels (nfd.Profile).
func Profiles(nodes []Node) []NodeProfile {
	out := make([]NodeProfile, len(nodes))
	for i, n := range nodes {
		p, src, err := nfd.Profile(n.Labels)
		out[i] = NodeProfile{Node: n.Name, Profile: p, Source: src, Err: err}
	}
	return out
}
