package main

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// rootName is the suite's name for its root test; every test's full name
// starts with it.
const rootName = "OCI Conformance Test"

// report is what one run of the suite printed.
type report struct {
	result     string                    // "OCI Conformance Result:" (Pass, FAIL, Error, ...)
	counts     map[string]int            // Pass, FAIL, Error, Skip, Disabled, Unknown, Total
	tests      map[string]map[string]int // leaf test -> status -> how many times (names repeat)
	categories map[string]string         // "API: Blob get", "Data: Image" -> status
	order      []string                  // categories in the order printed
	panicked   string                    // the first "panic:" line, if any
	// yamlCrash: the panic is in the suite's ReportResultsYAML, which
	// dereferences a data set its read-only mode never made (run.go:818 at
	// the pinned version), after the report was printed whole.
	yamlCrash bool
}

var (
	treeLine  = regexp.MustCompile(`^\s*(` + regexp.QuoteMeta(rootName) + `.*): (Pass|FAIL|Error|Skip|Disabled|Unknown)$`)
	countLine = regexp.MustCompile(`^  (Unknown|Disabled|Skip|Pass|FAIL|Error|Total)\.*: +([0-9]+)$`)
	catLine   = regexp.MustCompile(`^  (.+?)\.*: +(\S+)$`)
)

// parseReport reads the suite's standard output. It fails when the report
// is not there whole: the tree of tests, the result and the counts.
func parseReport(r io.Reader) (*report, error) {
	rep := &report{counts: map[string]int{}, tests: map[string]map[string]int{}, categories: map[string]string{}}
	type node struct{ name, status string }
	var nodes []node
	section := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "panic:") && rep.panicked == "":
			rep.panicked = line
		case rep.panicked != "" && strings.Contains(line, "(*runner).ReportResultsYAML("):
			rep.yamlCrash = true
		case line == "Test results":
			section = "tree"
		case strings.HasPrefix(line, "OCI Conformance Result: "):
			rep.result = strings.TrimPrefix(line, "OCI Conformance Result: ")
			section = "counts"
		case line == "API conformance:":
			section = "API"
		case line == "Data conformance:":
			section = "Data"
		case line == "":
			if section == "API" || section == "Data" {
				section = ""
			}
		case section == "tree":
			if m := treeLine.FindStringSubmatch(line); m != nil {
				nodes = append(nodes, node{m[1], m[2]})
			}
		case section == "counts":
			if m := countLine.FindStringSubmatch(line); m != nil {
				rep.counts[m[1]], _ = strconv.Atoi(m[2])
			}
		case section == "API" || section == "Data":
			if m := catLine.FindStringSubmatch(line); m != nil {
				key := section + ": " + m[1]
				rep.categories[key] = m[2]
				rep.order = append(rep.order, key)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("no test results in the report")
	}
	if rep.result == "" {
		return nil, fmt.Errorf("no \"OCI Conformance Result\" line")
	}
	if _, ok := rep.counts["Total"]; !ok {
		return nil, fmt.Errorf("no Total count")
	}
	if len(rep.categories) == 0 {
		return nil, fmt.Errorf("no API or data conformance table")
	}
	// A leaf is a test no other test is inside of.
	inner := map[string]bool{}
	for _, n := range nodes {
		if i := strings.LastIndex(n.name, "/"); i > 0 {
			inner[n.name[:i]] = true
		}
	}
	for _, n := range nodes {
		if inner[n.name] {
			continue
		}
		if rep.tests[n.name] == nil {
			rep.tests[n.name] = map[string]int{}
		}
		rep.tests[n.name][n.status]++
	}
	return rep, nil
}
