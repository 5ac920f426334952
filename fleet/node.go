package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tailor-dev/tailor/internal/durable"
	"github.com/tailor-dev/tailor/mirrorconfig"
	"github.com/tailor-dev/tailor/nfd"
	"github.com/tailor-dev/tailor/profile"
)

// nodeMarker starts every file SetupNode writes; CleanupNode removes only
// files that start with it, never an operator's own.
const nodeMarker = "Written by tailor node-setup, removed by tailor node-setup --remove."

// NodeSetup is what SetupNode writes on a node and CleanupNode removes.
type NodeSetup struct {
	// CertsDir is containerd's registry config_path
	// (/etc/containerd/certs.d); empty: no mirrors.
	CertsDir string
	// Mirror is the tailor serve URL and the registries it mirrors
	// (NAME=URL entries: the URL is the fallback when tailor is down).
	Mirror mirrorconfig.Options
	// FeaturesFile is the NFD local feature file
	// (/etc/kubernetes/node-feature-discovery/features.d/tailor); empty:
	// no labels.
	FeaturesFile string
	// Profile is the node's profile, written as labels (SetupNode only).
	Profile *profile.Profile
}

// NodeReport lists what SetupNode or CleanupNode did, path by path.
type NodeReport struct {
	Written, Removed []string
	// Skipped are files left alone, with why (an operator's own
	// hosts.toml, say).
	Skipped []string
}

// SetupNode writes a hosts.toml for each mirrored registry under CertsDir
// and the node's labels to FeaturesFile, each file replaced atomically. A
// hosts.toml tailor did not write is left alone and reported as skipped.
func SetupNode(s NodeSetup) (*NodeReport, error) {
	r := &NodeReport{}
	if s.CertsDir != "" {
		files, err := mirrorconfig.ContainerdHosts(s.Mirror, nodeMarker+" Pulls go to tailor serve, and to the server below when it fails or is down.")
		if err != nil {
			return r, err
		}
		for _, reg := range sortedKeys(files) {
			path := filepath.Join(s.CertsDir, reg, "hosts.toml")
			if ok, err := ours(path); err != nil {
				return r, err
			} else if !ok {
				r.Skipped = append(r.Skipped, path+": not written by tailor, left as it is")
				continue
			}
			if err := writeAtomic(path, []byte(files[reg])); err != nil {
				return r, err
			}
			r.Written = append(r.Written, path)
		}
	}
	if s.FeaturesFile != "" {
		if s.Profile == nil {
			return r, errors.New("node setup: no profile to write as labels")
		}
		labels, skipped := nfd.Labels(s.Profile)
		var b bytes.Buffer
		b.WriteString("# " + nodeMarker + " NFD's local source reads it.\n")
		if err := nfd.Write(&b, labels); err != nil {
			return r, err
		}
		if ok, err := ours(s.FeaturesFile); err != nil {
			return r, err
		} else if !ok {
			r.Skipped = append(r.Skipped, s.FeaturesFile+": not written by tailor, left as it is")
		} else if err := writeAtomic(s.FeaturesFile, b.Bytes()); err != nil {
			return r, err
		} else {
			r.Written = append(r.Written, s.FeaturesFile)
		}
		for _, k := range skipped {
			r.Skipped = append(r.Skipped, "host label "+k+": not a valid Kubernetes label")
		}
	}
	return r, nil
}

// CleanupNode removes what SetupNode wrote: the hosts.toml files of the
// mirrored registries (and their directory when left empty) and the
// feature file, each only when tailor wrote it.
func CleanupNode(s NodeSetup) (*NodeReport, error) {
	r := &NodeReport{}
	var paths []string
	if s.CertsDir != "" {
		files, err := mirrorconfig.ContainerdHosts(s.Mirror, "")
		if err != nil {
			return r, err
		}
		for _, reg := range sortedKeys(files) {
			paths = append(paths, filepath.Join(s.CertsDir, reg, "hosts.toml"))
		}
	}
	if s.FeaturesFile != "" {
		paths = append(paths, s.FeaturesFile)
	}
	for _, p := range paths {
		ok, err := ours(p)
		switch {
		case err != nil:
			return r, err
		case !ok:
			r.Skipped = append(r.Skipped, p+": not written by tailor, left as it is")
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return r, fmt.Errorf("remove %s: %w", p, err)
		} else if err == nil {
			r.Removed = append(r.Removed, p)
		}
		if strings.HasSuffix(p, "hosts.toml") {
			_ = os.Remove(filepath.Dir(p)) // only if empty
		}
	}
	return r, nil
}

// ours reports whether path is absent or a file SetupNode wrote.
func ours(path string) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, len(nodeMarker)+2)
	n, _ := f.Read(head)
	return bytes.HasPrefix(head[:n], []byte("# "+nodeMarker)), nil
}

// writeAtomic writes data to path through a temporary file and a rename,
// so containerd and NFD never read half a file.
func writeAtomic(path string, data []byte) error {
	return durable.WriteFile(durable.OS, path, "", data, 0o644)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
