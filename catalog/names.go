package catalog

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// canonicalName maps the spellings people use for the x86-64 levels
// (x86-64, x86-64-v3 as the psABI and `tailor detect` print them) to
// archspec's names; other names are unchanged.
func canonicalName(name string) string {
	if strings.HasPrefix(name, "x86-64") {
		return strings.ReplaceAll(name, "-", "_")
	}
	return name
}

var (
	featureOnce  sync.Once
	featureNames map[string]bool
)

// IsFeature reports whether f is a CPU feature some target requires, or a
// feature alias (sse3, avx512): a name a host profile or a requirement may
// use.
func IsFeature(f string) bool {
	featureOnce.Do(func() {
		load()
		featureNames = map[string]bool{}
		for _, t := range targets {
			for _, x := range t.features {
				featureNames[x] = true
			}
		}
		for a := range aliases {
			featureNames[a] = true
		}
	})
	return featureNames[f]
}

// SuggestFeature is ": did you mean X?" for the known feature closest to
// f, or "" when none is close.
func SuggestFeature(f string) string {
	IsFeature("") // builds featureNames
	return didYouMean(f, featureNames)
}

// unknownTarget is the error for a name that is not a target, with the
// closest target names as a suggestion.
func unknownTarget(name string) error {
	return fmt.Errorf("%w %q%s (see 'tailor targets' for the list)", ErrUnknownTarget, name, didYouMean(name, byNameSet()))
}

func byNameSet() map[string]bool {
	set := make(map[string]bool, len(byName))
	for n := range byName {
		set[n] = true
	}
	return set
}

// didYouMean names the candidates within two edits of s (one for short
// names), sorted: ": did you mean haswell?"; "" when none is close or
// too many are.
func didYouMean(s string, candidates map[string]bool) string {
	limit := 2
	if len(s) <= 4 {
		limit = 1
	}
	best, bestD := []string{}, limit+1
	for c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		switch {
		case d < bestD:
			best, bestD = []string{c}, d
		case d == bestD:
			best = append(best, c)
		}
	}
	if len(best) == 0 || len(best) > 3 {
		return ""
	}
	slices.Sort(best)
	return ": did you mean " + strings.Join(best, " or ") + "?"
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
