package verify

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"path"
	"strings"
)

// object is one ELF file the start path loads: the program, its dynamic
// linker, a library it needs, an extension module it imports.
type object struct {
	// path is the file's image path, links resolved; opened is the path
	// it is loaded by (its directory is $ORIGIN).
	path, opened string
	file         *file
	// role is program, interpreter, library or module; by names the
	// object that needed it.
	role, by string
}

// ldso finds libraries as glibc's dynamic linker does: DT_RPATH (of the
// object and the program, when the object has no DT_RUNPATH), then
// LD_LIBRARY_PATH, DT_RUNPATH, /etc/ld.so.cache and the default
// directories, each with its glibc-hwcaps subdirectories for the x86-64
// level of the CPU it runs on; $ORIGIN is the directory of the object.
type ldso struct {
	t       *tree
	cache   map[string][]string
	libPath []string
	workdir string
	// level is the x86-64 level of the CPU the image is declared for: the
	// glibc-hwcaps subdirectories up to it are searched first.
	level int
	class int
	mach  uint16
}

// defaultDirs are searched last, in this order: the multiarch
// directories (Debian, Ubuntu), lib64 (Fedora, RHEL, SUSE), lib (Alpine,
// and Debian's compatibility links).
var defaultDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
	"/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib"}

// maxObjects bounds the objects one start path loads.
const maxObjects = 1024

func newLdso(t *tree, env []string, workdir string, level int) *ldso {
	l := &ldso{t: t, cache: parseLdCache(t.ldCache), workdir: workdir, level: level}
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "LD_LIBRARY_PATH="); ok {
			l.libPath = splitPath(strings.ReplaceAll(v, ";", ":"))
		}
	}
	return l
}

// load returns the objects the program at progPath loads, in breadth
// first order (program first), and what could not be found or read.
// Extension modules (image paths) are loaded after it, as dlopen would.
func (l *ldso) load(progPath string, prog *file, interp string, modules []string) ([]object, []string) {
	l.class, l.mach = prog.elf.Class, prog.elf.Machine
	objs := []object{{path: progPath, opened: progPath, file: prog, role: "program"}}
	seen := map[string]bool{progPath: true}
	if interp != "" {
		if p, f, ok := l.t.resolve(interp); ok {
			seen[p] = true
			objs = append(objs, object{path: p, opened: interp, file: f, role: "interpreter", by: progPath})
		}
	}
	for _, m := range modules {
		if p, f, ok := l.t.resolve(m); ok && !seen[p] && f.elf != nil {
			seen[p] = true
			objs = append(objs, object{path: p, opened: m, file: f, role: "module", by: progPath})
		}
	}
	names := map[string]bool{}
	var problems []string
	for i := 0; i < len(objs) && len(objs) < maxObjects; i++ {
		o := objs[i]
		if o.file.dyn == nil && o.file.dynErr != "" && o.file.local != "" {
			// Its string table was beyond what the walk keeps of a file
			// (a C++ library's is tens of MB): read it from the copy.
			if d, err := dynFromFile(o.file.local); err == nil {
				o.file.dyn, o.file.dynErr = d, ""
			}
		}
		if o.file.dyn == nil {
			if o.file.dynErr != "" {
				problems = append(problems, fmt.Sprintf("the libraries %s needs are unknown: %s", o.path, o.file.dynErr))
			}
			continue
		}
		if o.file.dyn.soname != "" {
			names[o.file.dyn.soname] = true
		}
		for _, n := range o.file.dyn.needed {
			if names[n] {
				continue
			}
			opened, p, f, ok := l.find(n, o, objs[0])
			if !ok {
				problems = append(problems, fmt.Sprintf("%s, needed by %s, is not in the image where ld.so looks", n, o.path))
				continue
			}
			names[n] = true
			if seen[p] {
				continue
			}
			seen[p] = true
			objs = append(objs, object{path: p, opened: opened, file: f, role: "library", by: o.path})
		}
	}
	return objs, problems
}

// find looks name up for object o (of program prog), as ld.so does.
func (l *ldso) find(name string, o, prog object) (string, string, *file, bool) {
	if strings.Contains(name, "/") {
		p := name
		if !path.IsAbs(p) {
			p = path.Join("/", l.workdir, p)
		}
		rp, f, ok := l.fits(p)
		return p, rp, f, ok
	}
	var dirs []string
	if len(o.file.dyn.runpath) == 0 {
		dirs = append(dirs, l.expand(o.file.dyn.rpath, o)...)
		if o.path != prog.path && prog.file.dyn != nil && len(prog.file.dyn.runpath) == 0 {
			dirs = append(dirs, l.expand(prog.file.dyn.rpath, prog)...)
		}
	}
	dirs = append(dirs, l.libPath...)
	dirs = append(dirs, l.expand(o.file.dyn.runpath, o)...)
	for _, d := range dirs {
		if opened, p, f, ok := l.inDir(d, name); ok {
			return opened, p, f, true
		}
	}
	if cands := l.cache[name]; len(cands) > 0 {
		best, bestLevel := "", -1
		for _, c := range cands {
			lv := hwcapsLevel(c)
			if lv <= l.level && lv > bestLevel {
				if _, _, ok := l.fits(c); ok {
					best, bestLevel = c, lv
				}
			}
		}
		if best != "" {
			rp, f, _ := l.fits(best)
			return best, rp, f, true
		}
	}
	for _, d := range defaultDirs {
		if opened, p, f, ok := l.inDir(d, name); ok {
			return opened, p, f, true
		}
	}
	return "", "", nil, false
}

// inDir looks name up in dir's glibc-hwcaps subdirectories (the highest
// level the CPU has first), then in dir.
func (l *ldso) inDir(dir, name string) (string, string, *file, bool) {
	for lv := l.level; lv >= 2; lv-- {
		p := path.Join(dir, "glibc-hwcaps", fmt.Sprintf("x86-64-v%d", lv), name)
		if rp, f, ok := l.fits(p); ok {
			return p, rp, f, true
		}
	}
	p := path.Join(dir, name)
	rp, f, ok := l.fits(p)
	return p, rp, f, ok
}

// fits resolves p to an ELF file of the program's class and machine
// (ld.so passes over the others).
func (l *ldso) fits(p string) (string, *file, bool) {
	rp, f, ok := l.t.resolve(p)
	if !ok || f.elf == nil || f.elf.Class != l.class || f.elf.Machine != l.mach {
		return "", nil, false
	}
	return rp, f, true
}

// expand makes the directories of a DT_RPATH or DT_RUNPATH image paths:
// $ORIGIN is o's directory; $LIB and $PLATFORM, which depend on the
// loader's build, are dropped; relative ones are against the working
// directory.
func (l *ldso) expand(dirs []string, o object) []string {
	var out []string
	origin := path.Dir(o.opened)
	if o.role == "program" {
		origin = path.Dir(o.path)
	}
	for _, d := range dirs {
		d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", "$ORIGIN"), "$ORIGIN", origin)
		if strings.Contains(d, "$") {
			continue
		}
		if !path.IsAbs(d) {
			d = path.Join("/", l.workdir, d)
		}
		out = append(out, path.Clean(d))
	}
	return out
}

// hwcapsLevel is N of a path in a glibc-hwcaps/x86-64-vN directory, 0
// for any other.
func hwcapsLevel(p string) int {
	_, rest, ok := strings.Cut(p, "/glibc-hwcaps/x86-64-v")
	if !ok || rest == "" || rest[0] < '2' || rest[0] > '4' {
		return 0
	}
	return int(rest[0] - '0')
}

// ld.so.cache's format since glibc 2.32 (elf/cache.c, sysdeps/generic/
// dl-cache.h): a header, then entries of flags, key and value offsets
// (from the header's start), an unused word and the hwcap bits.
var ldCacheMagic = []byte("glibc-ld.so.cache1.1")

const (
	ldCacheHeader = 48
	ldCacheEntry  = 24
)

// parseLdCache maps library names to the paths /etc/ld.so.cache lists
// for them, in its order; nil for no cache or one it cannot read.
func parseLdCache(data []byte) map[string][]string {
	start := bytes.Index(data, ldCacheMagic)
	if start < 0 || len(data)-start < ldCacheHeader {
		return nil
	}
	c := data[start:]
	le := binary.LittleEndian
	n := uint64(le.Uint32(c[20:]))
	if n*ldCacheEntry > uint64(len(c)-ldCacheHeader) {
		return nil
	}
	str := func(off uint32) string {
		if uint64(off) >= uint64(len(c)) {
			return ""
		}
		s, _, _ := bytes.Cut(c[off:], []byte{0})
		return string(s)
	}
	out := map[string][]string{}
	for i := uint64(0); i < n; i++ {
		e := c[ldCacheHeader+i*ldCacheEntry:]
		key, value := str(le.Uint32(e[4:])), str(le.Uint32(e[8:]))
		if key != "" && strings.HasPrefix(value, "/") {
			out[key] = append(out[key], path.Clean(value))
		}
	}
	return out
}

// dynFromFile reads the dynamic section of an extracted ELF file.
func dynFromFile(local string) (*dynInfo, error) {
	f, err := elf.Open(local)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d := &dynInfo{}
	if d.needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return nil, err
	}
	if s, _ := f.DynString(elf.DT_SONAME); len(s) > 0 {
		d.soname = s[0]
	}
	for _, s := range orNone(f.DynString(elf.DT_RPATH)) {
		d.rpath = append(d.rpath, splitPath(s)...)
	}
	for _, s := range orNone(f.DynString(elf.DT_RUNPATH)) {
		d.runpath = append(d.runpath, splitPath(s)...)
	}
	return d, nil
}

// orNone is the strings of a tag the file may not have.
func orNone(s []string, _ error) []string { return s }
