package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// suiteLog writes output in the suite's format: tests maps a test's name
// (under the root) to its status, cats a category to its status.
func suiteLog(result string, tests [][2]string, cats [][2]string) string {
	var b strings.Builder
	b.WriteString("Test results\n" + rootName + ": " + result + "\n")
	parents := map[string]bool{}
	counts := map[string]int{}
	for _, t := range tests {
		parts := strings.Split(t[0], "/")
		for i := 1; i < len(parts); i++ {
			p := strings.Join(parts[:i], "/")
			if !parents[p] {
				parents[p] = true
				fmt.Fprintf(&b, "%s%s/%s: %s\n", strings.Repeat("  ", i), rootName, p, result)
			}
		}
		fmt.Fprintf(&b, "%s%s/%s: %s\n", strings.Repeat("  ", len(parts)), rootName, t[0], t[1])
		if t[1] == "FAIL" {
			fmt.Fprintf(&b, "%s - some error: with a colon: Pass\n", strings.Repeat("  ", len(parts)))
		}
		counts[t[1]]++
	}
	b.WriteString("\nConfiguration:\n  registry: x\n\nOCI Conformance Result: " + result + "\n")
	total := 0
	for _, s := range []string{"Disabled", "Skip", "Pass", "FAIL", "Error"} {
		fmt.Fprintf(&b, "  %s%s: %10d\n", s, strings.Repeat(".", 30-len(s)), counts[s])
		total += counts[s]
	}
	fmt.Fprintf(&b, "  Total%s: %10d\n\nAPI conformance:\n", strings.Repeat(".", 25), total)
	for _, c := range cats {
		fmt.Fprintf(&b, "  %s%s: %10s\n", c[0], strings.Repeat(".", 30-len(c[0])), c[1])
	}
	b.WriteString("\nData conformance:\n  Image.........................:       Pass\n\n")
	return b.String()
}

func writeRun(t *testing.T, log string, rc int) string {
	t.Helper()
	dir := t.TempDir()
	if log != "" {
		os.WriteFile(filepath.Join(dir, "log"), []byte(log), 0o644)
	}
	if rc >= 0 {
		os.WriteFile(filepath.Join(dir, "rc"), []byte(fmt.Sprintf("%d\n", rc)), 0o644)
	}
	return dir
}

var (
	refTests = [][2]string{{"blobs/get", "Pass"}, {"blobs/head", "Pass"}, {"push/blob-delete", "Pass"}, {"push/blob-delete", "Pass"}, {"referrers/list", "FAIL"}}
	refCats  = [][2]string{{"Blob get", "Pass"}, {"Referrers", "FAIL"}}
)

func TestGate(t *testing.T) {
	ref := suiteLog("FAIL", refTests, refCats)
	same := ref
	better := suiteLog("Pass", [][2]string{{"blobs/get", "Pass"}, {"blobs/head", "Pass"}, {"push/blob-delete", "Pass"}, {"push/blob-delete", "Pass"}, {"referrers/list", "Pass"}},
		[][2]string{{"Blob get", "Pass"}, {"Referrers", "Pass"}})
	worseTest := suiteLog("FAIL", [][2]string{{"blobs/get", "Pass"}, {"blobs/head", "FAIL"}, {"push/blob-delete", "Pass"}, {"push/blob-delete", "Pass"}, {"referrers/list", "FAIL"}}, refCats)
	worseDup := suiteLog("FAIL", [][2]string{{"blobs/get", "Pass"}, {"blobs/head", "Pass"}, {"push/blob-delete", "Pass"}, {"push/blob-delete", "FAIL"}, {"referrers/list", "FAIL"}}, refCats)
	worseCat := suiteLog("FAIL", refTests, [][2]string{{"Blob get", "FAIL"}, {"Referrers", "FAIL"}})
	withError := suiteLog("Error", append([][2]string{{"engine/broke", "Error"}}, refTests...), refCats)
	missingTest := suiteLog("FAIL", refTests[1:], refCats)
	truncated := ref[:strings.Index(ref, "OCI Conformance Result")]
	for _, tc := range []struct {
		name      string
		log       string
		rc, min   int
		pass      bool
		wantInOut string
	}{
		{"same as the reference", same, 1, 4, true, "conformance gate: pass"},
		{"better than the reference", better, 0, 4, true, "passes more than"},
		{"a test the reference passes fails", worseTest, 1, 3, false, "test blobs/head: reference Pass, tailor FAIL"},
		{"one of two runs of a test fails", worseDup, 1, 3, false, "test push/blob-delete: reference Pass x2, tailor Pass, FAIL"},
		{"a category the reference passes fails", worseCat, 1, 4, false, "category API: Blob get: reference Pass, tailor FAIL"},
		{"a test missing", missingTest, 1, 3, false, "test blobs/get: reference Pass, tailor absent"},
		{"Error status", withError, 1, 4, false, "status Error"},
		{"crash after the report", same, 2, 4, false, "exit status 2, not explained"},
		{"timeout", same, 124, 4, false, "exit status 124"},
		{"exit 0 hiding failures", same, 0, 4, false, "exit status 0 with result FAIL"},
		{"exit 1 without failures", better, 1, 4, false, "exit status 1 with result Pass"},
		{"fewer passes than the minimum", same, 1, 5, false, "4 passes, fewer than the minimum 5"},
		{"report cut short", truncated, 2, 0, false, "suite report unreadable"},
		{"no output at all", "", 2, 0, false, "no suite output"},
		{"no exit status", same, -1, 4, false, "no exit status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := []runFlag{{"distribution", writeRun(t, ref, 1), 4}, {"tailor", writeRun(t, tc.log, tc.rc), tc.min}}
			var out bytes.Buffer
			if got := gate(&out, runs, [][2]string{{"tailor", "distribution"}}); got != tc.pass {
				t.Errorf("gate = %v, want %v:\n%s", got, tc.pass, out.String())
			}
			if !strings.Contains(out.String(), tc.wantInOut) {
				t.Errorf("output lacks %q:\n%s", tc.wantInOut, out.String())
			}
		})
	}
}

// TestTwoCrashedRunsFail: the old gate read a missing count as 999, so a
// crashed reference and a crashed tailor run passed together.
func TestTwoCrashedRunsFail(t *testing.T) {
	runs := []runFlag{{"distribution", writeRun(t, "", 2), 0}, {"tailor", writeRun(t, "", 2), 0}}
	var out bytes.Buffer
	if gate(&out, runs, [][2]string{{"tailor", "distribution"}}) {
		t.Errorf("two crashed runs passed:\n%s", out.String())
	}
}

func TestTable(t *testing.T) {
	runs := []runFlag{{"distribution", writeRun(t, suiteLog("FAIL", refTests, refCats), 1), 0}}
	var out bytes.Buffer
	gate(&out, runs, nil)
	if !strings.Contains(out.String(), "API: Referrers") || !strings.Contains(out.String(), "Data: Image") {
		t.Errorf("table lacks categories:\n%s", out.String())
	}
}

// TestReadOnlyCrash: the suite's read-only mode crashes writing
// results.yaml after its report: that one crash leaves the verdict to the
// report; any other crash fails.
func TestReadOnlyCrash(t *testing.T) {
	good := suiteLog("Pass", [][2]string{{"pull/blob-get", "Pass"}}, [][2]string{{"Blob get", "Pass"}})
	yaml := good + "panic: runtime error: invalid memory address or nil pointer dereference [recovered, repanicked]\n\ngoroutine 21 [running]:\n" +
		"github.com/opencontainers/distribution-spec/conformance.(*runner).ReportResultsYAML(0x1, {0x2, 0x3})\n\t/x/run.go:818 +0x274\n"
	other := good + "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n"
	bad := suiteLog("FAIL", [][2]string{{"pull/blob-get", "FAIL"}}, [][2]string{{"Blob get", "FAIL"}}) + strings.TrimPrefix(yaml, good)
	for _, tc := range []struct {
		name string
		log  string
		pass bool
	}{{"results.yaml crash", yaml, true}, {"another crash", other, false}, {"results.yaml crash hiding a failure", bad, false}} {
		ref := writeRun(t, good, 0)
		runs := []runFlag{{"distribution-ro", ref, 1}, {"proxy", writeRun(t, tc.log, 2), 1}}
		var out bytes.Buffer
		if got := gate(&out, runs, [][2]string{{"proxy", "distribution-ro"}}); got != tc.pass {
			t.Errorf("%s: gate = %v, want %v:\n%s", tc.name, got, tc.pass, out.String())
		}
	}
}

// TestRealReports reads output of real runs (testdata/README.md).
func TestRealReports(t *testing.T) {
	for _, tc := range []struct {
		dir                         string
		pass, disabled, total, cats int
		yamlCrash                   bool
	}{
		{"embedded", 860, 2, 862, 52, false},
		{"distribution-ro", 20, 18, 38, 30, true},
		{"proxy", 20, 18, 38, 30, true},
	} {
		rep, problems, _ := checkRun(runFlag{tc.dir, "testdata/" + tc.dir, tc.pass})
		if rep == nil || len(problems) > 0 {
			t.Errorf("%s: %v", tc.dir, problems)
			continue
		}
		if rep.counts["Pass"] != tc.pass || rep.counts["Disabled"] != tc.disabled || rep.counts["Total"] != tc.total ||
			len(rep.categories) != tc.cats || rep.yamlCrash != tc.yamlCrash {
			t.Errorf("%s: counts %v, %d categories, yamlCrash %v", tc.dir, rep.counts, len(rep.categories), rep.yamlCrash)
		}
		if len(rep.tests) == 0 || len(withStatus(rep, "Pass")) == 0 {
			t.Errorf("%s: no tests read", tc.dir)
		}
	}
	var out bytes.Buffer
	ok := gate(&out, []runFlag{{"distribution-ro", "testdata/distribution-ro", 20}, {"proxy", "testdata/proxy", 20}},
		[][2]string{{"proxy", "distribution-ro"}})
	if !ok {
		t.Errorf("gate on the real read-only runs failed:\n%s", out.String())
	}
	// The embedded run against itself with a minimum above its passes fails.
	if gate(&out, []runFlag{{"embedded", "testdata/embedded", 861}}, nil) {
		t.Error("a minimum above the passes did not fail")
	}
}
