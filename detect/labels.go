package detect

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/tailor-dev/tailor/profile"
)

// DefaultLabelsFile is where Host reads the host's labels by default.
const DefaultLabelsFile = "/etc/tailor/labels"

// ParseLabels reads labels, one key=value a line; blank lines and lines
// starting with # are skipped, spaces around key and value are trimmed.
// Keys and values cannot hold commas (profile spec strings use them), keys
// cannot hold spaces or '='. name is used in errors ("file:line").
func ParseLabels(data []byte, name string) (map[string]string, error) {
	labels := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, err := parseLabel(line)
		if err != nil {
			return nil, fmt.Errorf("%w: labels %s:%d: %w", ErrMalformed, name, n, err)
		}
		labels[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: labels %s: %w", ErrMalformed, name, err)
	}
	return labels, nil
}

func parseLabel(line string) (string, string, error) {
	k, v, ok := strings.Cut(line, "=")
	if !ok {
		return "", "", fmt.Errorf("want key=value, got %q", clip(line))
	}
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	return k, v, checkLabel(k, v)
}

// checkLabel rejects a label that a profile could not carry
// (profile.CheckLabel).
func checkLabel(k, v string) error {
	if k == "" {
		return fmt.Errorf("empty label key (value %q)", clip(v))
	}
	return profile.CheckLabel(k, v)
}

// readLabelsFile reads a labels file; a missing file is no error when
// optional (the default file).
func readLabelsFile(path string, optional bool) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if optional && errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading labels: %w", err)
	}
	return ParseLabels(data, path)
}
