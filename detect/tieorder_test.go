package detect

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/tailor-dev/tailor/catalog"

	"github.com/tailor-dev/tailor/internal/sharedtest"
)

// archspecOrder returns the target names of
// ../shared/archspec/microarchitectures.json in the order archspec's
// TARGETS holds them: file order, each target's parents brought in before
// it. Max() over candidates keeps the first of equals in this order.
func archspecOrder(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(sharedtest.Path(t, "archspec", "microarchitectures.json"))
	if err != nil {
		t.Skipf("archspec reference: %v", err)
	}
	defer f.Close()
	var doc struct {
		Microarchitectures json.RawMessage `json:"microarchitectures"`
	}
	if err := json.NewDecoder(f).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var parents map[string]struct {
		From []string `json:"from"`
	}
	if err := json.Unmarshal(doc.Microarchitectures, &parents); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(doc.Microarchitectures))
	var names []string
	if _, err := dec.Token(); err != nil { // {
		t.Fatal(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	var order []string
	var fill func(string)
	fill = func(n string) {
		if slices.Contains(order, n) {
			return
		}
		for _, p := range parents[n].From {
			fill(p)
		}
		order = append(order, n)
	}
	for _, n := range names {
		fill(n)
	}
	return order
}

// TestTieOrder checks that, among targets that rank equal and can be
// compatible with one CPU together (same family and vendor, detected by
// features), Target prefers the one archspec lists first.
func TestTieOrder(t *testing.T) {
	order := archspecOrder(t)
	ties := 0
	for _, a := range catalog.All() {
		for _, b := range catalog.All() {
			if a == b || a.Family() != b.Family() || a.Vendor() != b.Vendor() || a.Generic() ||
				(a.Family() != MachineX86_64 && a.Family() != MachineAArch64) ||
				len(a.Ancestors()) != len(b.Ancestors()) || featureCount(a) != featureCount(b) {
				continue
			}
			ia, ib := slices.Index(order, a.Name()), slices.Index(order, b.Name())
			if ia < 0 || ib < 0 || ia > ib {
				continue
			}
			ties++
			if !better(a, b) {
				t.Errorf("%s and %s rank equal and archspec takes %s first; add them to tieOrder", a.Name(), b.Name(), a.Name())
			}
		}
	}
	if ties == 0 {
		t.Log("no ties in the catalog")
	}
}

func TestFeatureCountIsDistinct(t *testing.T) {
	for _, target := range catalog.All() {
		distinct := map[string]bool{}
		for f := range target.Features() {
			distinct[f] = true
		}
		if n := featureCount(target); n != len(distinct) {
			t.Errorf("featureCount(%s) = %d, want %d", target.Name(), n, len(distinct))
		}
	}
}
