package yamlstrict

import (
	"strings"
	"testing"
)

func TestUnknownFieldLine(t *testing.T) {
	var v struct {
		Listen    string `json:"listen"`
		Upstreams []struct {
			Name string `json:"name"`
		} `json:"upstreams"`
	}
	for data, want := range map[string]string{
		"listen: :5000\nupstreams:\n  - name: a\n    urll: x\n": `unknown field "urll" on line 4`,
		"listen: :5000\nlisen: x\n":                             `unknown field "lisen" on line 2`,
		"{\"listen\": \":5000\",\n \"bogus\": 1}":               `unknown field "bogus" on line 2`,
	} {
		err := Unmarshal([]byte(data), &v)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Unmarshal(%q) = %v, want %s", data, err, want)
		}
	}
	if err := Unmarshal([]byte("listen: :5000\n"), &v); err != nil || v.Listen != ":5000" {
		t.Errorf("a good file: %v %+v", err, v)
	}
}
