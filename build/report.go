package build

import (
	"fmt"
)

// Report says what a build stored: per entry its layers and bytes, and
// for the whole index the layers and bytes stored (each blob once) beside
// the naive sum (every entry's layers counted, as separate images would
// store them).
type Report struct {
	Entries []EntryReport `json:"entries"`
	// Layers is the sum of the entries' layers; UniqueLayers the
	// distinct blobs among them.
	Layers       int `json:"layers"`
	UniqueLayers int `json:"unique_layers"`
	// StoredBytes is the compressed size of the distinct layers;
	// NaiveBytes the sum of every entry's layers.
	StoredBytes int64 `json:"stored_bytes"`
	NaiveBytes  int64 `json:"naive_bytes"`
}

// EntryReport is one entry of a Report.
type EntryReport struct {
	Name         string `json:"name"`
	Digest       string `json:"digest"`
	Requirements string `json:"requirements"`
	Layers       int    `json:"layers"`
	Bytes        int64  `json:"bytes"`
}

func report(images []Built) (Report, error) {
	var r Report
	seen := map[string]bool{}
	for _, b := range images {
		m, err := b.Image.Manifest()
		if err != nil {
			return Report{}, fmt.Errorf("the %s image: %w", b.Entry.Name, err)
		}
		d, _ := b.Image.Digest()
		er := EntryReport{Name: b.Entry.Name, Digest: d.String(), Requirements: b.Entry.Requirements.String(), Layers: len(m.Layers)}
		for _, l := range m.Layers {
			er.Bytes += l.Size
			if !seen[l.Digest.String()] {
				seen[l.Digest.String()] = true
				r.StoredBytes += l.Size
			}
		}
		r.Layers += er.Layers
		r.NaiveBytes += er.Bytes
		r.Entries = append(r.Entries, er)
	}
	r.UniqueLayers = len(seen)
	return r, nil
}
