package fleet

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tailor-dev/tailor/nfd"
	"github.com/tailor-dev/tailor/profile"
	"sigs.k8s.io/yaml"
)

// ErrNodes is returned (wrapped) for a nodes document that cannot be read.
var ErrNodes = errors.New("bad nodes document")

// MaxNodesSize bounds the nodes document ReadNodes reads. JSON is read as a
// stream, one node at a time, keeping only names and labels, so memory
// follows the labels, not the document (kubectl's nodes carry their
// status: images, conditions, ... most of the bytes).
const MaxNodesSize = 512 << 20

// MaxYAMLNodesSize bounds a YAML nodes document, which is converted whole.
const MaxYAMLNodesSize = 64 << 20

// maxNodeSize bounds one node object of a JSON document.
const maxNodeSize = 4 << 20

// Node is a cluster node: its name and labels.
type Node struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

// item is the part of one Kubernetes object ReadNodes keeps.
type item struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
}

// ParseNodes reads what `kubectl get nodes -o json` (or -o yaml) prints: a
// List or NodeList of Nodes, or a single Node.
func ParseNodes(data []byte) ([]Node, error) { return ReadNodes(bytes.NewReader(data)) }

// ReadNodes reads what `kubectl get nodes -o json` (or -o yaml) prints from
// r: a List or NodeList of Nodes, or a single Node. JSON is decoded as a
// stream (up to MaxNodesSize bytes); YAML is converted whole (up to
// MaxYAMLNodesSize).
func ReadNodes(r io.Reader) ([]Node, error) {
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNodes, err)
	}
	var src io.Reader = br
	if first != '{' {
		data, err := io.ReadAll(io.LimitReader(br, MaxYAMLNodesSize+1))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNodes, err)
		}
		if len(data) > MaxYAMLNodesSize {
			return nil, fmt.Errorf("%w: YAML of more than %d bytes (kubectl get nodes -o json is read as a stream, up to %d)", ErrNodes, MaxYAMLNodesSize, MaxNodesSize)
		}
		js, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("%w: not JSON or YAML: %w", ErrNodes, err)
		}
		src = bytes.NewReader(js)
	}
	lr := &io.LimitedReader{R: src, N: MaxNodesSize + 1}
	br2 := &budgetReader{r: lr, left: maxNodeSize}
	nodes, err := decodeNodes(json.NewDecoder(br2), br2)
	if lr.N <= 0 {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrNodes, MaxNodesSize)
	}
	return nodes, err
}

// errNodeSize is budgetReader's error: one value is too large to hold.
var errNodeSize = fmt.Errorf("a node object of more than %d bytes", maxNodeSize)

// budgetReader fails once more than left bytes are read since the last
// reset, so the decoder never buffers more than about one node's bytes
// (what it reads ahead included) however large one object claims to be.
type budgetReader struct {
	r    io.Reader
	left int64
}

func (b *budgetReader) reset() { b.left = maxNodeSize }

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errNodeSize
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// firstByte peeks at the first byte that is not white space; io.EOF for
// an empty document.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			if err == io.EOF {
				return 0, errors.New("empty document")
			}
			return 0, err
		}
		if !strings.ContainsRune(" \t\r\n", rune(b)) {
			return b, br.UnreadByte()
		}
	}
}

// decodeNodes walks the top-level object: kind, metadata (a single Node)
// and items (a list, decoded one node at a time), skipping the rest.
func decodeNodes(dec *json.Decoder, budget *budgetReader) ([]Node, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrNodes}, a...)...)
	}
	if err := delim(dec, '{'); err != nil {
		return nil, bad("want `kubectl get nodes -o json` output: %w", err)
	}
	var (
		kind  string
		self  item
		items []item
		seen  = map[string]bool{}
	)
	for dec.More() {
		budget.reset()
		t, err := dec.Token()
		if err != nil {
			return nil, bad("%w", err)
		}
		key, _ := t.(string)
		switch key {
		case "kind":
			if err := dec.Decode(&kind); err != nil {
				return nil, bad("kind: %w", err)
			}
		case "metadata":
			if err := dec.Decode(&self.Metadata); err != nil {
				return nil, bad("metadata: %w", err)
			}
		case "items":
			if err := delim(dec, '['); err != nil {
				return nil, bad("items: %w", err)
			}
			for i := 0; dec.More(); i++ {
				budget.reset()
				var it item
				if err := dec.Decode(&it); err != nil {
					return nil, bad("item %d: %w", i, err)
				}
				if it.Kind != "" && it.Kind != "Node" {
					return nil, bad("item %d is a %s, not a Node", i, it.Kind)
				}
				if it.Metadata.Name == "" {
					return nil, bad("item %d has no metadata.name", i)
				}
				if seen[it.Metadata.Name] {
					return nil, bad("node %q listed twice", it.Metadata.Name)
				}
				seen[it.Metadata.Name] = true
				items = append(items, it)
			}
			if err := delim(dec, ']'); err != nil {
				return nil, bad("items: %w", err)
			}
		default:
			if err := skip(dec, budget); err != nil {
				return nil, bad("%s: %w", key, err)
			}
		}
	}
	if err := delim(dec, '}'); err != nil {
		return nil, bad("%w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("data after the document")
	}
	switch kind {
	case "Node":
		if self.Metadata.Name == "" {
			return nil, bad("the Node has no metadata.name")
		}
		items = []item{self}
	case "List", "NodeList":
	default:
		return nil, bad("kind %q, want List, NodeList or Node (the output of kubectl get nodes -o json)", kind)
	}
	if len(items) == 0 {
		return nil, bad("no nodes")
	}
	nodes := make([]Node, len(items))
	for i, it := range items {
		nodes[i] = Node{Name: it.Metadata.Name, Labels: it.Metadata.Labels}
	}
	return nodes, nil
}

func delim(dec *json.Decoder, want json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return fmt.Errorf("found %v, want %v", t, want)
	}
	return nil
}

// skip reads past one value, keeping nothing of it (token by token, so
// only one token counts against the budget).
func skip(dec *json.Decoder, budget *budgetReader) error {
	depth := 0
	for {
		budget.reset()
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// NodeProfile is a node's host profile as its labels describe it.
type NodeProfile struct {
	Node    string
	Profile *profile.Profile
	// Source says which labels the CPU was read from.
	Source nfd.Source
	// Inferred and Warnings are nfd.Reading's.
	Inferred, Warnings []string
	// Err says why the labels describe no usable profile.
	Err error
}

// Profiles reads each node's profile from its labels (nfd.Read), once per
// class of nodes with the same labels that matter (Classes).
func Profiles(nodes []Node) []NodeProfile {
	out := make([]NodeProfile, len(nodes))
	for _, c := range Classes(nodes) {
		for _, i := range c.Nodes {
			np := c.Profile
			np.Node = nodes[i].Name
			out[i] = np
		}
	}
	return out
}

// Class is a set of nodes whose labels describe one profile: they carry
// the same values of every label nfd.Read reads, so every match gives
// them the same answer.
type Class struct {
	// Key is the labels that matter, sorted, as k=v lines.
	Key string
	// Nodes are the positions of the class's nodes in the list given.
	Nodes []int
	// Profile is the class's profile (Node is the first node's name).
	Profile NodeProfile
}

// Classes groups nodes by the labels that matter to matching and reads
// each class's profile once: what a fleet of 10,000 nodes of a few dozen
// kinds of hardware costs is a few dozen reads, plus a look at each node's
// labels.
func Classes(nodes []Node) []Class {
	var classes []Class
	index := map[string]int{}
	var keys []string
	var b strings.Builder
	for i, n := range nodes {
		keys = keys[:0]
		for k := range n.Labels {
			if matters(k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		b.Reset()
		for _, k := range keys {
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(n.Labels[k])
			b.WriteByte('\n')
		}
		if c, ok := index[b.String()]; ok {
			classes[c].Nodes = append(classes[c].Nodes, i)
			continue
		}
		key := b.String()
		index[key] = len(classes)
		np := NodeProfile{Node: n.Name}
		if r, err := nfd.Read(n.Labels); err != nil {
			np.Err = err
		} else {
			np.Profile, np.Source, np.Inferred, np.Warnings = r.Profile, r.Source, r.Inferred, r.Warnings
		}
		classes = append(classes, Class{Key: key, Nodes: []int{i}, Profile: np})
	}
	return classes
}

// matters reports whether nfd.Read reads label k (so two nodes that differ
// only in other labels, their hostnames say, are one class).
func matters(k string) bool {
	return strings.HasPrefix(k, nfd.Prefix) ||
		strings.HasPrefix(k, "feature.node.kubernetes.io/cpu-") ||
		strings.HasPrefix(k, "nvidia.com/") ||
		k == nfd.KeyKubeArch || k == nfd.KeyKubeOS
}
