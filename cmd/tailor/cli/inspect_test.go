package cli

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tailor-dev/tailor/internal/registrytest"
	"github.com/tailor-dev/tailor/resolve/resolvetest"
)

func TestSplitTargets(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
	}{
		{[]string{"haswell,zen4"}, []string{"haswell", "zen4"}},
		{[]string{"cpu=sapphirerapids,gpu=9.0,driver=550.54.14"}, []string{"cpu=sapphirerapids,gpu=9.0,driver=550.54.14"}},
		{[]string{"zen4,cpu=zen4,gpu=9.0,driver=550.54.14,haswell"}, []string{"zen4", "cpu=zen4,gpu=9.0,driver=550.54.14", "haswell"}},
		{[]string{"cpu=zen4,gpu=9.0,cpu=haswell,label.mpi=openmpi"}, []string{"cpu=zen4,gpu=9.0", "cpu=haswell,label.mpi=openmpi"}},
		{[]string{"arch=arm64,cpu=neoverse_v2", "cpu=zen4", "m1"}, []string{"arch=arm64,cpu=neoverse_v2", "cpu=zen4", "m1"}},
		{[]string{"gpu=9.0,cpu=zen4"}, []string{"gpu=9.0,cpu=zen4"}},
		{[]string{" zen4 , ,haswell"}, []string{"zen4", "haswell"}},
	} {
		if got := splitTargets(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("splitTargets(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestInspectText runs tailor inspect against the distribution registry
// and reads its text output as a person would: the targets table aligned,
// each target → the entry it gets, with digest and requirements.
func TestInspectText(t *testing.T) {
	host := registrytest.New(t, "")
	pushed, err := resolvetest.Push(host+"/app:1", resolvetest.Variants)
	if err != nil {
		t.Fatal(err)
	}
	gpu := "cpu=sapphirerapids,gpu=9.0,driver=550.54.14"
	code, out, errs := runCLI(t, "inspect", host+"/app:1", "--targets", "haswell,zen4,"+gpu, "--targets", "power9le")
	if code != 0 || errs != "" {
		t.Fatalf("inspect: exit %d, stderr %q", code, errs)
	}
	lines := strings.Split(out, "\n")
	if lines[0] != host+"/app:1" || !strings.HasPrefix(lines[1], "OCI image index of 6 entries, "+pushed.Index.String()) {
		t.Errorf("inspect header =\n%s\n%s", lines[0], lines[1])
	}
	start := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "TARGET") })
	if start < 0 || len(lines) < start+5 {
		t.Fatalf("no targets table:\n%s", out)
	}
	rows := lines[start+1 : start+5]
	want := []struct{ target, entry string }{
		{"haswell", "1 " + shortDigestOf(pushed, "x86_64_v3") + " cpu=x86_64_v3"},
		{"zen4", "3 " + shortDigestOf(pushed, "zen4") + " cpu=zen4"},
		{gpu, "5 " + shortDigestOf(pushed, "cuda_sm90") + " cuda=sm_90,cuda-version=12.4"},
		{"power9le", "- - (no fitting entry)"},
	}
	arrow := strings.Index(lines[start+1], "→")
	for i, row := range rows {
		target, entry, ok := strings.Cut(row, "→")
		if !ok || strings.TrimSpace(target) != want[i].target || strings.Join(strings.Fields(entry), " ") != want[i].entry {
			t.Errorf("row %d = %q, want %s → %s", i, row, want[i].target, want[i].entry)
		}
		if strings.Index(row, "→") != arrow {
			t.Errorf("row %d is not aligned with the others:\n%s", i, strings.Join(rows, "\n"))
		}
	}
	if hdr := lines[start]; strings.Index(hdr, "ENTRY") != utf8.RuneCountInString(rows[0][:arrow])+3 {
		t.Errorf("ENTRY header not over the entry column:\n%s\n%s", hdr, rows[0])
	}
	if !strings.Contains(out, "no target above gets entry 0 (generic), 2 (cpu=skylake_avx512), 4 (generic)") {
		t.Errorf("inspect does not name the entries no target gets:\n%s", out)
	}

	for _, bad := range []string{"pentium9000", "cpu=zen4,gpu=banana"} {
		code, out, errs = runCLI(t, "inspect", host+"/app:1", "--targets", bad)
		if code != exitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, bad) {
			t.Errorf("inspect --targets %s: exit %d, stdout %q, stderr %q; want exit 2 and one line naming it", bad, code, out, errs)
		}
	}
}

func shortDigestOf(p *resolvetest.Pushed, variant string) string {
	return shortDigest(p.Digests[variant])
}
