package verify

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/internal/gcctest"
	"github.com/tailor-dev/tailor/internal/tooltest"
	"github.com/tailor-dev/tailor/requirement"
)

// TestShellExec: the exec line of a script and the command of `sh -c`
// are followed when plain, and not when they expand anything.
func TestShellExec(t *testing.T) {
	for _, c := range []struct {
		script string
		args   []string
		want   []string
	}{
		{"#!/bin/sh\nset -e\nexec /app/run \"$@\"\n", []string{"a"}, []string{"/app/run", "a"}},
		{"#!/bin/sh\n# exec /not/this\ncd /app && exec ./server --port 80 2>&1\n", nil, []string{"./server", "--port", "80"}},
		{"#!/bin/sh\nif [ -n \"$X\" ]; then exec /a; fi\nexec /b 'one arg'\n", nil, []string{"/b", "one arg"}},
		{"#!/bin/sh\nexec \"$APP\" run\n", nil, nil},
		{"#!/bin/sh\nexec $(which app)\n", nil, nil},
		{"#!/bin/sh\n/app/run\n", nil, nil},
	} {
		got, ok := shellExec(c.script, c.args)
		if ok != (c.want != nil) || !slices.Equal(got, c.want) {
			t.Errorf("shellExec(%q) = %q, %v; want %q", c.script, got, ok, c.want)
		}
	}
	for _, c := range []struct {
		argv, want []string
	}{
		{[]string{"/bin/sh", "-c", "exec /app/run 100"}, []string{"/app/run", "100"}},
		{[]string{"sh", "-c", "/app/run --x", "sh", "y"}, []string{"/app/run", "--x"}},
		{[]string{"sh", "-c", "exec /app/run \"$@\"", "sh", "y"}, []string{"/app/run", "y"}},
		{[]string{"sh", "-c", "/app/a | /app/b"}, nil},
		{[]string{"sh", "-c", "run $HOME"}, nil},
		{[]string{"/app/run", "-c", "x"}, nil},
	} {
		got, ok := shellC(c.argv)
		if ok != (c.want != nil) || !slices.Equal(got, c.want) {
			t.Errorf("shellC(%q) = %q, %v; want %q", c.argv, got, ok, c.want)
		}
	}
}

// TestPythonModules: the modules a python command imports.
func TestPythonModules(t *testing.T) {
	for _, c := range []struct {
		argv, want []string
	}{
		{[]string{"/usr/bin/python3", "-c", "import vecmod; print(vecmod.run())"}, []string{"vecmod"}},
		{[]string{"python3.11", "-u", "-c", "from numpy.linalg import norm\nimport a, b.c"}, []string{"numpy.linalg", "a", "b.c"}},
		{[]string{"python3", "-m", "http.server"}, []string{"http.server"}},
		{[]string{"/app/run", "-c", "import x"}, nil},
	} {
		got := pythonModules(c.argv)
		slices.Sort(got)
		slices.Sort(c.want)
		if !slices.Equal(got, c.want) {
			t.Errorf("pythonModules(%q) = %q, want %q", c.argv, got, c.want)
		}
	}
}

// TestLdCache reads this machine's /etc/ld.so.cache (written by glibc's
// ldconfig) and finds libc in it where ld.so would.
func TestLdCache(t *testing.T) {
	data := readOrSkip(t, "/etc/ld.so.cache")
	c := parseLdCache(data)
	libc := c["libc.so.6"]
	if len(libc) == 0 {
		t.Fatalf("libc.so.6 not in the cache (%d names)", len(c))
	}
	if _, err := os.Stat(libc[0]); err != nil {
		t.Errorf("the cache lists libc.so.6 at %s: %v", libc[0], err)
	}
	if parseLdCache(data[:40]) != nil || parseLdCache([]byte("glibc-ld.so.cache1.1\xff\xff\xff\xff")) != nil {
		t.Error("a truncated cache parses")
	}
}

func readOrSkip(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("%s: %v", p, err)
	}
	return b
}

// TestLdsoSearch: DT_RUNPATH with $ORIGIN, glibc-hwcaps directories up to
// the declared level, DT_RPATH and the default directories, as ld.so
// searches them, on libraries gcc links.
func TestLdsoSearch(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kern.c"), gcctest.Source(t, "kern.c"), 0o644); err != nil {
		t.Fatal(err)
	}
	gcctest.Run(t, dir, "-O3", "-shared", "-fPIC", "-Wl,-soname,libkern.so", "-o", "libkern.so", "kern.c")
	gcctest.Run(t, dir, "-O3", "-shared", "-fPIC", "-Wl,-soname,libkern.so", "-Wl,-z,x86-64-v3", "-o", "libkern-v3.so", "kern.c")
	gcctest.Run(t, dir, "-O3", "-DMAIN", "-o", "run", "kern.c", "-L.", "-lkern", "-lm", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib")
	gcctest.Run(t, dir, "-O3", "-DMAIN", "-o", "run-rpath", "kern.c", "-L.", "-lkern", "-lm", "-Wl,--disable-new-dtags,-rpath,/opt/old")
	img := image(t, nil, debianBase(t), layer(t,
		entryTar{name: "app/bin/run", local: filepath.Join(dir, "run")},
		entryTar{name: "app/bin/run-rpath", local: filepath.Join(dir, "run-rpath")},
		entryTar{name: "app/lib/libkern.so", local: filepath.Join(dir, "libkern.so")},
		entryTar{name: "app/lib/glibc-hwcaps/x86-64-v3/libkern.so", local: filepath.Join(dir, "libkern-v3.so")},
		entryTar{name: "opt/old/libkern.so", local: filepath.Join(dir, "libkern.so")},
		entryTar{name: "usr/lib/x86_64-linux-gnu/libkern.so", local: filepath.Join(dir, "libkern.so")},
	))
	tr := newTree()
	if err := walkLayers(context.Background(), img, tr, nil); err != nil {
		t.Fatal(err)
	}
	load := func(prog string, level int) map[string]string {
		_, f, ok := tr.resolve(prog)
		if !ok || f.dyn == nil {
			t.Fatalf("%s: %v, dynamic %v (%s)", prog, ok, f != nil && f.dyn != nil, f.dynErr)
		}
		objs, problems := newLdso(tr, nil, "/", level).load(prog, f, "/lib64/ld-linux-x86-64.so.2", nil)
		if len(problems) > 0 {
			t.Errorf("%s: %v", prog, problems)
		}
		out := map[string]string{}
		for _, o := range objs {
			out[o.path] = o.role
		}
		return out
	}
	got := load("/app/bin/run", 1)
	if got["/app/lib/libkern.so"] != "library" || got["/usr/lib/x86_64-linux-gnu/libc.so.6"] != "library" || got["/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"] != "interpreter" {
		t.Errorf("baseline CPU: loads %v", got)
	}
	if got := load("/app/bin/run", 3); got["/app/lib/glibc-hwcaps/x86-64-v3/libkern.so"] != "library" || got["/app/lib/libkern.so"] != "" {
		t.Errorf("x86-64-v3 CPU: loads %v, want the glibc-hwcaps/x86-64-v3 build", got)
	}
	if got := load("/app/bin/run-rpath", 1); got["/opt/old/libkern.so"] != "library" {
		t.Errorf("DT_RPATH: loads %v", got)
	}
}

// TestStartPathLibraries: what the start path loads is judged, with runs
// off: a #! script and `sh -c` are followed to the program they exec,
// whose library, found through DT_RUNPATH $ORIGIN/../lib, is built for
// haswell (its code) or carries an x86-64-v3 note; the plain library is
// ok. Only the files the start path needs are extracted.
func TestStartPathLibraries(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kern.c"), gcctest.Source(t, "kern.c"), 0o644); err != nil {
		t.Fatal(err)
	}
	gcctest.Run(t, dir, "-O3", "-shared", "-fPIC", "-o", "libkern.so", "kern.c")
	gcctest.Run(t, dir, "-O3", "-shared", "-fPIC", "-march=haswell", "-o", "libkern-haswell.so", "kern.c")
	gcctest.Run(t, dir, "-O3", "-shared", "-fPIC", "-Wl,-z,x86-64-v3", "-o", "libkern-v3.so", "kern.c")
	gcctest.Run(t, dir, "-O3", "-DMAIN", "-o", "run", "kern.c", "-L.", "-lkern", "-lm", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib")
	sh := tooltest.File(t, "/bin/dash", "dash")
	script := writeTemp(t, "start.sh", "#!/bin/sh\nset -e\nexec /app/bin/run 100 \"$@\"\n")
	base := debianBase(t)
	app := func(lib string) v1.Layer {
		return layer(t,
			entryTar{name: "bin/sh", local: sh},
			entryTar{name: "app/start.sh", local: script},
			entryTar{name: "app/bin/run", local: filepath.Join(dir, "run")},
			entryTar{name: "app/lib/libkern.so", local: filepath.Join(dir, lib)},
			entryTar{name: "app/lib/unused.so", local: filepath.Join(dir, "libkern-haswell.so")},
		)
	}
	generic := v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}
	haswell := v1.Descriptor{Platform: generic.Platform, Annotations: map[string]string{requirement.AnnotationCPUTarget: "haswell"}}
	entries := []Entry{
		{Descriptor: generic, Image: image(t, []string{"/app/start.sh"}, base, app("libkern-haswell.so"))},
		{Descriptor: generic, Image: image(t, []string{"/bin/sh", "-c", "exec /app/bin/run 100"}, base, app("libkern-haswell.so"))},
		{Descriptor: generic, Image: image(t, []string{"/app/start.sh"}, base, app("libkern-v3.so"))},
		{Descriptor: generic, Image: image(t, []string{"/app/start.sh"}, base, app("libkern.so"))},
		{Descriptor: haswell, Image: image(t, []string{"/app/start.sh"}, base, app("libkern-haswell.so"))},
	}
	res, err := Images(context.Background(), entries, WithRun(false))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Evidence.Program != "/app/bin/run" {
			t.Errorf("entry %d: program %q, want the one the script execs", i, r.Evidence.Program)
		}
	}
	for i := range 2 {
		reasons := strings.Join(res[i].Reasons, "\n")
		if res[i].Verdict != Mislabeled || !strings.Contains(reasons, "libkern.so:") {
			t.Errorf("entry %d (haswell library): %s %s", i, res[i].Verdict, reasons)
		}
	}
	if r := res[2]; r.Verdict != Mislabeled || !strings.Contains(strings.Join(r.Reasons, "\n"), "/app/lib/libkern.so (library)") {
		t.Errorf("v3-noted library: %s %v", r.Verdict, r.Reasons)
	}
	if r := res[3]; r.Verdict != OK {
		t.Errorf("plain library: %s %v", r.Verdict, r.Reasons)
	}
	if r := res[4]; r.Verdict != OK {
		t.Errorf("haswell library declared haswell: %s %v", r.Verdict, r.Reasons)
	}
	// Extracted: the script, the program, its library, glibc; never the
	// library nothing loads, nor the shell, which the tar holds before
	// the script that names it (no second pass for it: with runs off, no
	// check needs it on disk).
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	all := size(sh) + size(script) + size(filepath.Join(dir, "run")) + size(filepath.Join(dir, "libkern.so")) + size(filepath.Join(dir, "libkern-haswell.so"))
	for _, f := range []string{"ld-linux-x86-64.so.2", "libc.so.6", "libm.so.6"} {
		all += size("/lib/x86_64-linux-gnu/" + f)
	}
	want := all - size(filepath.Join(dir, "libkern-haswell.so")) - size(sh)
	if x := res[3].Evidence.Extracted; x != want {
		t.Errorf("extracted %d bytes, want %d: all but the unused library and the shell", x, want)
	}
	if r := res[3].Evidence; r.BytesRead == 0 || r.Layers != 2 {
		t.Errorf("read %d bytes of %d layers", r.BytesRead, r.Layers)
	}
}

// TestSecondPassNarrow: a library the tar holds before the program that
// loads it, outside the library directories, is learnt too late for the
// one pass; the second reads only its layer, up to it (not the 4 MiB
// after it), and its code is judged.
func TestSecondPassNarrow(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kern.c"), gcctest.Source(t, "kern.c"), 0o644); err != nil {
		t.Fatal(err)
	}
	gcctest.Run(t, dir, "-O3", "-shared", "-fPIC", "-march=haswell", "-o", "libkern.so", "kern.c")
	gcctest.Run(t, dir, "-O3", "-DMAIN", "-o", "run", "kern.c", "-L.", "-lkern", "-lm", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../deps")
	filler := writeTemp(t, "filler", strings.Repeat("tailor ", 4<<20/7))
	img := image(t, []string{"/opt/app/bin/run"}, debianBase(t), layer(t,
		entryTar{name: "opt/app/deps/libkern.so", local: filepath.Join(dir, "libkern.so")},
		entryTar{name: "opt/app/bin/run", local: filepath.Join(dir, "run")},
		entryTar{name: "opt/app/share/filler", local: filler},
	))
	res, err := Images(context.Background(), []Entry{{Descriptor: amd64, Image: img}}, WithRun(false))
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if r.Verdict != Mislabeled || !strings.Contains(strings.Join(r.Reasons, " "), "libkern.so:") {
		t.Errorf("%s %q, want the library's code judged", r.Verdict, r.Reasons)
	}
	tr := newTree()
	if err := walkLayers(context.Background(), img, tr, nil); err != nil {
		t.Fatal(err)
	}
	if once := tr.uncompressed; r.Evidence.Uncompressed >= once+(4<<20) {
		t.Errorf("read %d bytes of tar, one pass is %d: the second pass read past the library", r.Evidence.Uncompressed, once)
	}
}

// TestDynamicBeyondHead: when the dynamic string tables are beyond what
// the walk keeps (a C++ library's are tens of MB; here the bound is made
// tiny), the libraries are still found, from the extracted copies, and
// judged.
func TestDynamicBeyondHead(t *testing.T) {
	defer func(n uint64) { dynHeadLen = n }(dynHeadLen)
	dynHeadLen = 64
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kern.c"), gcctest.Source(t, "kern.c"), 0o644); err != nil {
		t.Fatal(err)
	}
	gcctest.Run(t, dir, "-O3", "-shared", "-fPIC", "-march=haswell", "-o", "libkern.so", "kern.c")
	gcctest.Run(t, dir, "-O3", "-DMAIN", "-o", "run", "kern.c", "-L.", "-lkern", "-lm", "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib")
	img := image(t, []string{"/app/bin/run"}, debianBase(t), layer(t,
		entryTar{name: "app/bin/run", local: filepath.Join(dir, "run")},
		entryTar{name: "app/lib/libkern.so", local: filepath.Join(dir, "libkern.so")},
	))
	res, err := Images(context.Background(), []Entry{{Descriptor: amd64, Image: img}}, WithRun(false))
	if err != nil {
		t.Fatal(err)
	}
	if r := res[0]; r.Verdict != Mislabeled || !strings.Contains(strings.Join(r.Reasons, " "), "libkern.so:") {
		t.Errorf("%s %q, want the library's code judged", r.Verdict, r.Reasons)
	}
}
