// Command gen converts archspec's microarchitectures.json into tailor's own
// catalog format (catalog/targets.json). It is run by hand when the catalog is
// refreshed from a newer archspec release:
//
//	go run ./catalog/internal/gen ../shared/archspec/microarchitectures.json > catalog/targets.json
//
// The output is tailor's data from then on: flags have {name} expanded, targets
// are listed parents-first, and detection tables live beside the targets.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

type archspecFile struct {
	Microarchitectures map[string]struct {
		From       []string `json:"from"`
		Vendor     string   `json:"vendor"`
		Features   []string `json:"features"`
		Generation int      `json:"generation"`
		CPUPart    string   `json:"cpupart"`
		Compilers  map[string][]struct {
			Versions string `json:"versions"`
			Name     string `json:"name"`
			Flags    string `json:"flags"`
		} `json:"compilers"`
	} `json:"microarchitectures"`
	FeatureAliases map[string]struct {
		AnyOf    []string `json:"any_of"`
		Families []string `json:"families"`
	} `json:"feature_aliases"`
	Conversions struct {
		ARMVendors  map[string]string `json:"arm_vendors"`
		DarwinFlags map[string]string `json:"darwin_flags"`
	} `json:"conversions"`
}

type flagEntry struct {
	Versions string `json:"versions"`
	Flags    string `json:"flags"`
}

type target struct {
	Name       string                 `json:"name"`
	Vendor     string                 `json:"vendor"`
	Parents    []string               `json:"parents"`
	Generation int                    `json:"generation,omitempty"`
	CPUParts   []string               `json:"cpu_parts,omitempty"`
	Features   []string               `json:"features"`
	Flags      map[string][]flagEntry `json:"flags"`
}

type alias struct {
	AnyOf    []string `json:"any_of,omitempty"`
	Families []string `json:"families,omitempty"`
}

type catalogFile struct {
	Comment        string            `json:"comment"`
	Targets        []target          `json:"targets"`
	FeatureAliases map[string]alias  `json:"feature_aliases"`
	ARMVendors     map[string]string `json:"arm_vendors"`
	DarwinFlags    map[string]string `json:"darwin_flags"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen microarchitectures.json > targets.json")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var in archspecFile
	if err := json.Unmarshal(raw, &in); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	out := catalogFile{
		Comment:        "tailor's microarchitecture catalog. Derived from archspec (Apache-2.0 OR MIT); flags have {name} expanded. Regenerate with catalog/internal/gen.",
		FeatureAliases: map[string]alias{},
		ARMVendors:     in.Conversions.ARMVendors,
		DarwinFlags:    in.Conversions.DarwinFlags,
	}
	for k, a := range in.FeatureAliases {
		out.FeatureAliases[k] = alias{AnyOf: a.AnyOf, Families: a.Families}
	}
	// Parents first, then by name: a reader can build the DAG in one pass.
	var order []string
	seen := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, p := range in.Microarchitectures[n].From {
			visit(p)
		}
		order = append(order, n)
	}
	names := make([]string, 0, len(in.Microarchitectures))
	for n := range in.Microarchitectures {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		visit(n)
	}
	for _, n := range order {
		m := in.Microarchitectures[n]
		t := target{Name: n, Vendor: m.Vendor, Parents: m.From, Generation: m.Generation, Features: m.Features, Flags: map[string][]flagEntry{}}
		if t.Parents == nil {
			t.Parents = []string{}
		}
		if t.Features == nil {
			t.Features = []string{}
		}
		sort.Strings(t.Features)
		if m.CPUPart != "" && m.CPUPart != "Unknown" {
			t.CPUParts = []string{m.CPUPart}
		}
		for comp, entries := range m.Compilers {
			for _, e := range entries {
				name := e.Name
				if name == "" {
					name = n
				}
				t.Flags[comp] = append(t.Flags[comp], flagEntry{Versions: e.Versions, Flags: strings.ReplaceAll(e.Flags, "{name}", name)})
			}
		}
		out.Targets = append(out.Targets, t)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
