package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

func sortStrings(s []string) { sort.Strings(s) }

// compare lists the tests and categories ref passes and t does not
// (worse), and those t passes and ref does not (better). A test that runs
// several times counts by its passes.
func compare(t, ref *report) (worse, better []string) {
	names := map[string]bool{}
	for n := range ref.tests {
		names[n] = true
	}
	for n := range t.tests {
		names[n] = true
	}
	for n := range names {
		pr, pt := ref.tests[n]["Pass"], t.tests[n]["Pass"]
		short := strings.TrimPrefix(n, rootName+"/")
		switch {
		case pr > pt:
			worse = append(worse, fmt.Sprintf("test %s: reference %s, tailor %s", short, statuses(ref.tests[n]), statuses(t.tests[n])))
		case pt > pr:
			better = append(better, fmt.Sprintf("test %s: reference %s, tailor %s", short, statuses(ref.tests[n]), statuses(t.tests[n])))
		}
	}
	for _, c := range ref.order {
		rs, ts := ref.categories[c], t.categories[c]
		if rs == "Pass" && ts != "Pass" {
			worse = append(worse, fmt.Sprintf("category %s: reference Pass, tailor %s", c, orNone(ts)))
		}
	}
	for _, c := range t.order {
		if t.categories[c] == "Pass" && ref.categories[c] != "Pass" {
			better = append(better, fmt.Sprintf("category %s: reference %s, tailor Pass", c, orNone(ref.categories[c])))
		}
	}
	sort.Strings(worse)
	sort.Strings(better)
	return worse, better
}

func statuses(m map[string]int) string {
	if len(m) == 0 {
		return "absent"
	}
	var parts []string
	for _, s := range []string{"Pass", "FAIL", "Error", "Skip", "Disabled", "Unknown"} {
		if m[s] == 1 {
			parts = append(parts, s)
		} else if m[s] > 1 {
			parts = append(parts, fmt.Sprintf("%s x%d", s, m[s]))
		}
	}
	return strings.Join(parts, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}

// printTable prints every category's verdict in every run.
func printTable(w io.Writer, names []string, reps map[string]*report) {
	var cats []string
	seen := map[string]bool{}
	for _, n := range names {
		for _, c := range reps[n].order {
			if !seen[c] {
				seen[c] = true
				cats = append(cats, c)
			}
		}
	}
	width := 0
	for _, c := range cats {
		width = max(width, len(c))
	}
	fmt.Fprintf(w, "\n%-*s", width+2, "category")
	for _, n := range names {
		fmt.Fprintf(w, " %-16s", n)
	}
	fmt.Fprintln(w)
	for _, c := range cats {
		fmt.Fprintf(w, "%-*s", width+2, c)
		for _, n := range names {
			fmt.Fprintf(w, " %-16s", orDash(reps[n].categories[c]))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printBetter prints the categories where tailor passes more, and the
// tests, counted by the group (first name component) they are in.
func printBetter(w io.Writer, t, ref string, better []string) {
	groups := map[string]int{}
	var keys []string
	for _, b := range better {
		if strings.HasPrefix(b, "category ") {
			fmt.Fprintf(w, "%s passes more than %s: %s\n", t, ref, b)
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(b, "test "), ":")
		key, _, _ := strings.Cut(name, "/")
		if groups[key] == 0 {
			keys = append(keys, key)
		}
		groups[key]++
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s passes more than %s: %d tests under %s\n", t, ref, groups[k], k)
	}
}
