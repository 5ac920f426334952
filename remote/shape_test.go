package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// FuzzParseShape: the one parse of a manifest agrees with the rules it
// replaces: it refuses exactly what is not a JSON object, types the body
// as MediaTypeOf does (the rule the server shares), and its index is what
// ggcr's ParseIndexManifest reads.
func FuzzParseShape(f *testing.F) {
	for _, s := range []string{indexJSON, `{"schemaVersion":2,"config":{},"layers":[]}`, `null`, `[1]`, `{"manifests":null}`,
		`{"schemaVersion":"2","manifests":[]}`, `{"schemaVersion":1,"fsLayers":[]}`, `{"manifests":[{"size":"x"}]}`,
		`{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"digest":"sha256:` + string(bytes.Repeat([]byte("a"), 64)) + `","platform":{"os":"linux","architecture":"amd64","features":["x"]},"annotations":{"a":"b"}}],"artifactType":"t","subject":{"size":1}}`} {
		f.Add([]byte(s), "application/json")
		f.Add([]byte(s), "application/vnd.oci.image.index.v1+json")
	}
	// Past 64 descriptors the entries are decoded into a slice made for them:
	// an index that large, and an image manifest with as many layers.
	d := `{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":1,"digest":"sha256:` + strings.Repeat("b", 64) + `"}`
	many := strings.TrimSuffix(strings.Repeat(d+",", 100), ",")
	f.Add([]byte(`{"schemaVersion":2,"manifests":[`+many+`]}`), "application/json")
	f.Add([]byte(`{"schemaVersion":2,"config":`+d+`,"layers":[`+many+`]}`), "application/json")
	f.Add([]byte(`{"schemaVersion":2,"manifests":[],"layers":[`+many+`]}`), "application/json")
	f.Fuzz(func(t *testing.T, raw []byte, ct string) {
		mt, idx, err := parseShape(raw, ct)
		var obj map[string]json.RawMessage
		if objErr := json.Unmarshal(raw, &obj); (err == nil) != (objErr == nil) {
			t.Fatalf("parseShape error %v, but as a JSON object: %v", err, objErr)
		}
		if err != nil {
			return
		}
		if want := MediaTypeOf(raw, ct); mt != want {
			t.Fatalf("type %q, MediaTypeOf says %q", mt, want)
		}
		if idx == nil {
			return
		}
		if !mt.IsIndex() {
			t.Fatalf("an index parsed for a %s", mt)
		}
		want, perr := v1.ParseIndexManifest(bytes.NewReader(raw))
		if perr != nil {
			t.Fatalf("parsed an index ggcr refuses: %v", perr)
		}
		if !reflect.DeepEqual(idx, want) {
			t.Fatalf("index %+v, ggcr reads %+v", idx, want)
		}
	})
}

// TestIndexParsedOnce: Get parses an index once, and hands that parse to
// the first IndexManifest; a later call parses again (the first caller
// owns what it got).
func TestIndexParsedOnce(t *testing.T) {
	host, _ := fakeRegistry(t, func(_ int, w http.ResponseWriter) { serveIndex(w) })
	m, err := fastClient(t).Get(context.Background(), host+"/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	pre := m.index.Load()
	if pre == nil {
		t.Fatal("Get did not keep the index it parsed")
	}
	first, err := m.IndexManifest()
	if err != nil || first != pre {
		t.Fatalf("first IndexManifest: %p, %v; want the parse of Get, %p", first, err, pre)
	}
	second, err := m.IndexManifest()
	if err != nil || second == first || !reflect.DeepEqual(first, second) {
		t.Fatalf("second IndexManifest: %p (%v), want a new parse equal to the first", second, err)
	}
}
