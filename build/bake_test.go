package build

import (
	"context"
	"regexp"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/requirement"
)

// TestEmitBake checks the bake file against what Run builds and Publish
// would push: per target, the index entry's platform and dev.tailor.*
// annotations, the build file's context, an inline Dockerfile that runs
// the command and copies its output, and attestations off.
func TestEmitBake(t *testing.T) {
	needCC(t)
	c := exampleConfig(t)
	c.Targets = c.Targets[:4]
	p, err := NewPlan(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := EmitBake(&b, c, p, "reg/forces:1.0"); err != nil {
		t.Fatal(err)
	}
	bake := b.String()
	for _, w := range []string{`group "default"`, `target "forces-x86_64_v3"`, `TAILOR_TARGET = "x86_64_v3"`,
		`CFLAGS = "-march=x86-64-v3 -mtune=generic"`, `"reg/forces:1.0-x86_64_v4"`,
		`context   = "../examples/forces/src"`,
		`attest = ["type=provenance,disabled=true", "type=sbom,disabled=true"]`,
		"dockerfile-inline = <<-EOT\n    FROM " + DefaultBuilder + " AS build\n",
		`    RUN ["sh","-c","mkdir -p \"$TAILOR_OUT\" \u0026\u0026 $CC $CFLAGS -O3 -static -DTAILOR_TARGET=$TAILOR_TARGET -o $TAILOR_OUT/forces forces.c -lm"]`,
		"    FROM scratch\n    COPY --from=build /src/out/ /\n    ENTRYPOINT [\"/forces\"]\n  EOT\n",
		"#   tailor index create reg/forces:1.0 \\\n#     --entry reg/forces:1.0-x86_64 \\\n#     --entry reg/forces:1.0-x86_64_v2=cpu=x86_64_v2 \\"} {
		if !strings.Contains(bake, w) {
			t.Errorf("bake file lacks %q:\n%s", w, bake)
		}
	}
	if strings.Contains(bake, "AR =") || strings.Contains(bake, "CC =") {
		t.Errorf("bake args carry this machine's CC or AR:\n%s", bake)
	}
	res, err := p.Run(context.Background())
	t.Cleanup(func() { _ = res.Close() })
	if err != nil {
		t.Fatal(err)
	}
	targets := bakeTargets(bake)
	for _, built := range res.Images {
		d := indexEntry(t, res, built)
		bt, ok := targets["forces-"+bakeName(built.Entry.Name)]
		if !ok {
			t.Errorf("no bake target for %s", built.Entry.Name)
			continue
		}
		if want := descPlatform(d.Platform); bt.platform != want {
			t.Errorf("bake target %s platform %q, the index has %q", built.Entry.Name, bt.platform, want)
		}
		var want []string
		for _, k := range sortedKeys(d.Annotations) {
			if strings.HasPrefix(k, requirement.AnnotationPrefix) {
				want = append(want, "manifest-descriptor:"+k+"="+d.Annotations[k])
			}
		}
		if strings.Join(bt.annotations, " ") != strings.Join(want, " ") {
			t.Errorf("bake target %s annotations %q, the index has %q", built.Entry.Name, bt.annotations, want)
		}
	}
	if len(targets) != len(res.Images) {
		t.Errorf("bake has %d targets, the build %d images", len(targets), len(res.Images))
	}
}

func TestEmitBakeEscapesTemplates(t *testing.T) {
	needCC(t)
	c := exampleConfig(t)
	c.Targets = c.Targets[:1]
	c.Command = `echo ${TAILOR_TARGET} %{x} > $TAILOR_OUT/t`
	p, err := NewPlan(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := EmitBake(&b, c, p, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `echo $${TAILOR_TARGET} %%{x}`) {
		t.Errorf("HCL templates in the command are not escaped:\n%s", b.String())
	}
}

type bakeEntry struct {
	platform    string
	annotations []string
}

var (
	bakeTargetLine = regexp.MustCompile(`(?m)^target "([^"]+)" \{$`)
	bakeField      = regexp.MustCompile(`(?m)^  (platforms|annotations) += \[(.*)\]$`)
	bakeQuoted     = regexp.MustCompile(`"([^"]*)"`)
)

// bakeTargets reads the platform and annotations of each target of a bake
// file as EmitBake writes it.
func bakeTargets(bake string) map[string]bakeEntry {
	out := map[string]bakeEntry{}
	blocks := bakeTargetLine.FindAllStringSubmatchIndex(bake, -1)
	for i, m := range blocks {
		end := len(bake)
		if i+1 < len(blocks) {
			end = blocks[i+1][0]
		}
		var e bakeEntry
		for _, f := range bakeField.FindAllStringSubmatch(bake[m[1]:end], -1) {
			var vals []string
			for _, q := range bakeQuoted.FindAllStringSubmatch(f[2], -1) {
				vals = append(vals, q[1])
			}
			if f[1] == "platforms" {
				e.platform = strings.Join(vals, ",")
			} else {
				e.annotations = vals
			}
		}
		out[bake[m[2]:m[3]]] = e
	}
	return out
}

func indexEntry(t *testing.T, res *Result, b Built) v1.Descriptor {
	t.Helper()
	h, err := b.Image.Digest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range res.Index.Manifest.Manifests {
		if d.Digest == h {
			return d
		}
	}
	t.Fatalf("image %s of %s is not in the index", h, b.Entry.Name)
	return v1.Descriptor{}
}

func descPlatform(p *v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
