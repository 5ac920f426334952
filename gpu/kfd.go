package gpu

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/tailor-dev/tailor/profile"
)

// ParseKFD lists the AMD GPUs of the KFD topology in fsys, rooted where
// [KFDTopologyPath] is on a live system: one directory per node, each with a
// "properties" file of "key value" lines and, optionally, a "name" file.
// A node's gfx target comes from gfx_target_version ([GFXTarget]); nodes
// with version 0 are CPUs and are skipped, and so are nodes the device
// cgroup forbids reading. The model is the ASIC name of the node's "name"
// file ("aldebaran") when it is more than the "ip discovery" placeholder. GPUs are returned in node order, as a non-nil slice; a missing
// topology is no GPU and no error. Nodes that cannot be read or parsed are
// skipped and reported in the error, the others returned.
func ParseKFD(fsys fs.FS) ([]profile.GPU, error) {
	gpus := []profile.GPU{}
	entries, err := fs.ReadDir(fsys, ".")
	if errors.Is(err, fs.ErrNotExist) {
		return gpus, nil
	}
	if err != nil {
		return gpus, fmt.Errorf("read KFD topology: %w", err)
	}
	nodes := nodeDirs(entries)
	var errs []error
	for _, node := range nodes {
		g, ok, err := parseKFDNode(fsys, node)
		if err != nil {
			errs = append(errs, fmt.Errorf("KFD node %s: %w", node, err))
			continue
		}
		if ok {
			gpus = append(gpus, g)
		}
	}
	return gpus, errors.Join(errs...)
}

// nodeDirs returns the numeric directory names of entries in numeric order
// (fs.ReadDir sorts "10" before "2").
func nodeDirs(entries []fs.DirEntry) []string {
	type node struct {
		name string
		id   int
	}
	var nodes []node
	for _, e := range entries {
		id, err := strconv.Atoi(e.Name())
		if err != nil || id < 0 {
			continue
		}
		nodes = append(nodes, node{e.Name(), id})
	}
	slices.SortFunc(nodes, func(a, b node) int { return a.id - b.id })
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.name
	}
	return names
}

// parseKFDNode reads one topology node; ok is false for a CPU node.
func parseKFDNode(fsys fs.FS, node string) (g profile.GPU, ok bool, err error) {
	props, err := fs.ReadFile(fsys, path.Join(node, "properties"))
	if errors.Is(err, fs.ErrPermission) {
		return g, false, nil // a GPU the device cgroup hides from us
	}
	if err != nil {
		return g, false, err
	}
	v, found, err := propertyInt(props, "gfx_target_version")
	if err != nil {
		return g, false, err
	}
	if !found {
		return g, false, errors.New("properties have no gfx_target_version")
	}
	if v == 0 {
		return g, false, nil
	}
	gfx, err := GFXTarget(v)
	if err != nil {
		return g, false, err
	}
	g = profile.GPU{Vendor: profile.VendorAMD, GFX: gfx}
	g.Model = nodeName(fsys, node)
	return g, true, nil
}

// nodeName returns the ASIC name the kernel gives the node ("aldebaran",
// "navi21"), or "" when it has none or only the placeholder of chips
// described by IP discovery.
func nodeName(fsys fs.FS, node string) string {
	b, err := fs.ReadFile(fsys, path.Join(node, "name"))
	if err != nil {
		return ""
	}
	name := strings.TrimSpace(string(b))
	if name == "ip discovery" {
		return ""
	}
	return name
}

// propertyInt finds the integer value of key among "key value" lines.
func propertyInt(props []byte, key string) (v int, found bool, err error) {
	sc := bufio.NewScanner(bytes.NewReader(props))
	for sc.Scan() {
		k, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if !ok || k != key {
			continue
		}
		v, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil {
			return 0, true, fmt.Errorf("property %s: %w", key, err)
		}
		return v, true, nil
	}
	return 0, false, sc.Err()
}

// GFXTarget converts a KFD gfx_target_version, major*10000 + minor*100 +
// stepping, into the LLVM target name, the stepping written as one hex
// digit: 90010 is gfx90a, 90402 gfx942, 100300 gfx1030, 110000 gfx1100.
func GFXTarget(version int) (string, error) {
	major, minor, stepping := version/10000, version/100%100, version%100
	if major < 1 || major > 99 || minor > 9 || stepping > 15 {
		return "", fmt.Errorf("gfx_target_version %d: want major*10000 + minor*100 + stepping, major below 100, minor below 10, stepping below 16", version)
	}
	return fmt.Sprintf("gfx%d%d%x", major, minor, stepping), nil
}
