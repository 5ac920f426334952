// Package yamlstrict reads YAML (or JSON) config files strictly: an
// unknown field is an error that names it and the line it is on, for the
// build file and the server's config alike.
package yamlstrict

import (
	"fmt"
	"strings"

	"github.com/tailor-dev/tailor/internal/lazyre"
	"sigs.k8s.io/yaml"
)

var unknownField = lazyre.New(`unknown field "([^"]+)"`)

// Unmarshal decodes data into v, refusing unknown fields: the error then
// says `unknown field "NAME" on line N`.
func Unmarshal(data []byte, v any) error {
	err := yaml.UnmarshalStrict(data, v)
	if err == nil {
		return nil
	}
	if m := unknownField.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("unknown field %q%s", m[1], LineOf(data, m[1]))
	}
	return err
}

// LineOf is " on line N" for the first line of data that sets field, or
// "" when none does.
func LineOf(data []byte, field string) string {
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimLeft(strings.TrimSpace(line), "- {")
		if strings.HasPrefix(trimmed, field+":") || strings.Contains(line, " "+field+":") || strings.Contains(line, "{"+field+":") ||
			strings.Contains(line, `"`+field+`":`) {
			return fmt.Sprintf(" on line %d", i+1)
		}
	}
	return ""
}
