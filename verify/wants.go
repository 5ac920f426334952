package verify

import (
	"path"
	"regexp"
	"strings"
)

// wants decides, as the layers stream by, which files the walk copies
// to disk: those on the start path (the program, the scripts and
// interpreters before it, its dynamic linker), the libraries they need by
// name, extension modules the command imports and, for runs, an
// interpreter's own library. It learns from each file it is given (a
// program's PT_INTERP and DT_NEEDED, a script's exec line), so that,
// with the layers read from the top, the files below are picked in the
// same pass. What it learns too late is found by a second, narrow pass.
type wants struct {
	dir string
	// paths are image paths wanted (and the files their links lead to).
	paths map[string]bool
	// names are library file names wanted (DT_NEEDED of wanted objects).
	names map[string]bool
	// modules are Python extension module names the command imports.
	modules map[string]bool
	// prefixes are directories whose every file is wanted (an
	// interpreter's library, for runs).
	prefixes map[string]bool
	run      bool
	budget   int64
	// short lists wanted files left out for the budget.
	short []string
	// pathEnv and workdir resolve command names.
	pathEnv, workdir string

	scriptBytes int64
	capture     dynCapture
	// spec holds, in memory, libraries seen before anything wanted them
	// (a layer read before the program's, a library before the program
	// in its layer), within specBudget bytes: those the program turns out
	// to load are written from here rather than read again.
	spec       map[string][]byte
	specBudget int64
	// only, when set, limits the walk to the layers it names (a later
	// pass); left counts the wanted files of each not seen yet.
	left map[int]int
}

func newWants(dir string, budget int64, run bool, pathEnv, workdir string) *wants {
	return &wants{dir: dir, paths: map[string]bool{}, names: map[string]bool{}, modules: map[string]bool{}, prefixes: map[string]bool{},
		run: run, budget: budget, pathEnv: pathEnv, workdir: workdir, spec: map[string][]byte{}, specBudget: specBudget}
}

// specBudget bounds the memory of libraries kept in case they are
// needed (a Debian base's /lib/x86_64-linux-gnu is about 30 MB).
const specBudget = 64 << 20

// speculate reports whether a library at p of size bytes, not wanted
// (yet), is kept in memory in case it is.
func (w *wants) speculate(p string, f *file) bool {
	if w == nil || w.dir == "" || w.left != nil || f.elf == nil || f.size > w.specBudget || !strings.Contains(path.Base(p), ".so") {
		return false
	}
	return strings.Contains(p, "/lib/") || strings.Contains(p, "/lib64/") || strings.Contains(p, "/lib32/") || strings.HasPrefix(p, "/lib")
}

// done reports whether a later pass has every file it came for from
// layer i.
func (w *wants) done(i int) bool {
	if w == nil || w.left == nil {
		return false
	}
	return w.left[i] <= 0
}

// command adds what argv runs: its program's candidates on PATH, the
// program a `sh -c` string runs, and the modules a Python command imports.
func (w *wants) command(argv []string) {
	if w == nil {
		return
	}
	for hop := 0; hop <= maxScripts && len(argv) > 0; hop++ {
		for _, c := range candidates(argv[0], w.pathEnv, w.workdir) {
			w.paths[c] = true
		}
		for _, m := range pythonModules(argv) {
			w.modules[m[strings.LastIndex(m, ".")+1:]] = true
		}
		next, ok := shellC(argv)
		if !ok {
			return
		}
		argv = next
	}
}

// want reports whether the file at p is to be extracted.
func (w *wants) want(p string, f *file) bool {
	if w == nil || w.dir == "" {
		return false
	}
	if w.paths[p] {
		return true
	}
	base := path.Base(p)
	if f.elf != nil && (w.names[base] || w.isModule(p)) {
		return true
	}
	if !w.run {
		return false
	}
	for d := path.Dir(p); d != "/"; d = path.Dir(d) {
		if w.prefixes[d] {
			return true
		}
	}
	return p == ldCachePath
}

// isModule reports whether p is a Python extension module the command
// imports (NAME.cpython-311-x86_64-linux-gnu.so, NAME.abi3.so, NAME.so
// in a Python directory).
func (w *wants) isModule(p string) bool {
	if len(w.modules) == 0 || !strings.HasSuffix(p, ".so") || !strings.Contains(p, "/python") && !strings.Contains(p, "-packages/") {
		return false
	}
	name, _, _ := strings.Cut(path.Base(p), ".")
	return w.modules[name]
}

// link follows a symbolic link at p to target: a wanted path at or under
// p makes the path it leads to wanted too; so does a wanted library name.
func (w *wants) link(t *tree, p, target string) {
	if w == nil || w.dir == "" {
		return
	}
	if !strings.HasPrefix(target, "/") {
		target = path.Join(path.Dir(p), target)
	}
	target = clean(target)
	// Through the directory links already seen (those seen later map
	// the wanted paths under them when they come).
	for hops := 0; hops < 40; hops++ {
		q, ok := t.resolveDirs(target)
		if !ok || q == target {
			break
		}
		target = q
	}
	if w.names[path.Base(p)] {
		w.paths[target] = true
		w.names[path.Base(target)] = true
	}
	if w.paths[p] {
		w.paths[target] = true
	}
	prefix := p + "/"
	for q := range w.paths {
		if rest, ok := strings.CutPrefix(q, prefix); ok {
			w.paths[path.Join(target, rest)] = true
		}
	}
	for q := range w.prefixes {
		if rest, ok := strings.CutPrefix(q+"/", prefix); ok {
			w.prefixes[clean(path.Join(target, rest))] = true
		}
	}
}

// learn takes what a file on the start path says it needs: its dynamic
// linker, its libraries, an interpreter's library (CPython's, Debian
// node's builtins), a script's interpreter and the program it execs.
func (w *wants) learn(p string, f *file) {
	if w == nil || w.dir == "" {
		return
	}
	if !w.paths[p] && !(f.elf != nil && (w.names[path.Base(p)] || w.isModule(p))) {
		return
	}
	if f.elf != nil {
		if f.elf.Interp != "" {
			w.paths[clean(f.elf.Interp)] = true
		}
		if f.dyn != nil {
			for _, n := range f.dyn.needed {
				w.names[path.Base(n)] = true
			}
		}
		if v := pythonVersion(path.Base(p)); v != "" && w.paths[p] {
			for _, d := range []string{"/usr/lib/", "/usr/local/lib/", path.Dir(path.Dir(p)) + "/lib/"} {
				w.prefixes[clean(d+v)] = true
			}
		}
		if b := path.Base(p); (b == "node" || b == "nodejs") && w.paths[p] {
			// Debian's node loads its builtins from these at start.
			for _, d := range []string{"/usr/share/nodejs", "/usr/lib/nodejs"} {
				w.prefixes[d] = true
			}
		}
		return
	}
	interp, args, ok := shebang(f.head)
	if !ok {
		return
	}
	argv := append([]string{interp}, args...)
	if path.Base(interp) == "env" && len(args) > 0 {
		argv = args
	}
	w.command(argv)
	if isShell(argv[0]) {
		if next, ok := shellExec(string(f.head), nil); ok {
			w.command(next)
		}
	}
}

var pythonRE = regexp.MustCompile(`^python(\d\.\d+)$`)

// pythonVersion is "python3.11" for a CPython interpreter named so.
func pythonVersion(base string) string {
	if m := pythonRE.FindStringSubmatch(base); m != nil {
		return "python" + m[1]
	}
	return ""
}

var importRE = regexp.MustCompile(`(?:^|[;\n])\s*(?:import\s+([\w.]+(?:\s*,\s*[\w.]+)*)|from\s+([\w.]+)\s+import)`)

// pythonModules are the top modules a python command imports: -m MOD,
// and the import statements of -c CODE.
func pythonModules(argv []string) []string {
	if len(argv) == 0 || !strings.HasPrefix(path.Base(argv[0]), "python") {
		return nil
	}
	var out []string
	for i := 1; i+1 < len(argv); i++ {
		switch argv[i] {
		case "-m":
			return append(out, argv[i+1])
		case "-c":
			for _, m := range importRE.FindAllStringSubmatch(argv[i+1], -1) {
				for _, name := range strings.Split(m[1]+","+m[2], ",") {
					if name = strings.TrimSpace(name); name != "" {
						out = append(out, name)
					}
				}
			}
			return out
		}
	}
	return out
}
