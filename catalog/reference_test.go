package catalog

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tailor-dev/tailor/internal/sharedtest"
)

type refTarget struct {
	From      []string `json:"from"`
	Vendor    string   `json:"vendor"`
	Features  []string `json:"features"`
	CPUPart   string   `json:"cpupart"`
	Compilers map[string][]struct {
		Versions string `json:"versions"`
		Name     string `json:"name"`
		Flags    string `json:"flags"`
	} `json:"compilers"`
}

// knownDifferences lists every deliberate difference from the reference,
// with its reason. The comparison fails on any difference not listed here.
var knownDifferences = map[string]string{
	// archspec writes "Unknown" where Apple has not published a MIDR part
	// number; tailor stores no part rather than a placeholder that could
	// match by accident.
	"m3 cpupart": "archspec's placeholder 'Unknown' is not stored",
	"m4 cpupart": "archspec's placeholder 'Unknown' is not stored",
}

func TestCatalogMatchesArchspec(t *testing.T) {
	path := sharedtest.Path(t, "archspec", "microarchitectures.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Microarchitectures map[string]refTarget `json:"microarchitectures"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatalf("parse reference: %v", err)
	}
	if got, want := len(All()), len(ref.Microarchitectures); got != want {
		t.Errorf("catalog has %d targets, reference %d", got, want)
	}
	seenDiffs := map[string]bool{}
	diff := func(key, format string, args ...any) {
		if _, ok := knownDifferences[key]; ok {
			seenDiffs[key] = true
			return
		}
		t.Errorf(key+": "+format, args...)
	}
	for name, r := range ref.Microarchitectures {
		tg, err := Lookup(name)
		if err != nil {
			t.Errorf("reference target %q missing from the catalog", name)
			continue
		}
		if r.From == nil {
			r.From = []string{}
		}
		if !slices.Equal(tg.Parents(), r.From) {
			diff(name+" parents", "catalog %v, reference %v", tg.Parents(), r.From)
		}
		if tg.Vendor() != r.Vendor {
			diff(name+" vendor", "catalog %q, reference %q", tg.Vendor(), r.Vendor)
		}
		wantFeatures := slices.Sorted(slices.Values(r.Features))
		if !slices.Equal(slices.Sorted(slices.Values(tg.FeatureList())), wantFeatures) {
			diff(name+" features", "catalog %v, reference %v", tg.FeatureList(), wantFeatures)
		}
		var wantParts []string
		if r.CPUPart != "" {
			wantParts = []string{r.CPUPart}
		}
		if !slices.Equal(tg.CPUParts(), wantParts) {
			diff(name+" cpupart", "catalog %v, reference %v", tg.CPUParts(), wantParts)
		}
		var want []FlagEntry
		for _, e := range r.Compilers["gcc"] {
			n := e.Name
			if n == "" {
				n = name
			}
			want = append(want, FlagEntry{Versions: e.Versions, Flags: strings.ReplaceAll(e.Flags, "{name}", n)})
		}
		if !slices.Equal(tg.FlagEntries("gcc"), want) {
			diff(name+" gcc flags", "catalog %v, reference %v", tg.FlagEntries("gcc"), want)
		}
	}
	for key, why := range knownDifferences {
		if !seenDiffs[key] {
			t.Errorf("known difference %q (%s) no longer occurs: remove it from the list", key, why)
		}
	}
}
