package reach

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tailor-dev/tailor/verify/x86isa"
)

// ErrUnsupported is returned for an ELF file that is not x86-64 code.
var ErrUnsupported = errors.New("reach: not an x86-64 ELF file")

// Use is where an extension was first seen, and how often.
type Use struct {
	// Function is the symbol of the function, or the address in hex when
	// the file has no symbols.
	Function string `json:"function"`
	// Address is the first instruction's address.
	Address uint64 `json:"address"`
	// Count is how many reachable instructions need the extension.
	Count int `json:"count"`
}

// Report is what the reachable code of a program needs.
type Report struct {
	// Needs are the extensions reachable code uses.
	Needs x86isa.Features `json:"-"`
	// Uses tells, per extension name, where it was first seen.
	Uses map[string]Use `json:"uses,omitempty"`
	// Functions is the number of functions reached, of Total the symbol
	// table bounds; Other counts code reached outside any (PLT stubs, the
	// code of a stripped file), by entry.
	Functions int `json:"functions"`
	Total     int `json:"total_functions"`
	Other     int `json:"other_code,omitempty"`
	// Resolvers is the number of IFUNC resolvers (and glibc's dispatched
	// trampolines) found, none entered.
	Resolvers int `json:"ifunc_resolvers"`
	// Unreached is what the code outside the reachable part uses (the
	// run-time-selected variants, mostly): reported, never counted.
	Unreached x86isa.Features `json:"-"`
	// Dispatched is what code reached only behind a CPU-feature check
	// uses (a branch on a feature variable: Go's internal/cpu, Rust's
	// std_detect, __builtin_cpu_supports, OpenSSL's capability vector):
	// never counted. DispatchBranches counts those branches.
	Dispatched       x86isa.Features `json:"-"`
	DispatchBranches int             `json:"dispatch_branches,omitempty"`
	// Stripped is true when the file had no symbols to bound functions.
	Stripped bool `json:"stripped,omitempty"`
	// Caveat says why Needs cannot be trusted, when it cannot: a stripped
	// file with IFUNC variants (a static glibc) holds run-time-selected
	// code that no symbol sets apart, and its addresses are taken by code
	// that is reached.
	Caveat string `json:"caveat,omitempty"`
	// Instructions decoded, and decoding errors (skipped bytes).
	Instructions int `json:"instructions"`
	Errors       int `json:"decode_errors,omitempty"`
}

// fn is a function of the symbol table.
type fn struct {
	name       string
	start, end uint64
}

// program is the parsed file.
type program struct {
	f         *elf.File
	text      []segment
	funcs     []fn // sorted by start
	resolvers map[uint64]bool
	vars      *featureVars
	goProgram bool
	openssl   bool
	// tables are the data symbols that hold the code addresses of one
	// extension's variants (gcExpandersAVX512): dispatch tables, whose
	// functions are no roots.
	tables []span
}

type segment struct {
	addr uint64
	data []byte
}

// maxInstructions bounds the work on one file (a 1 GB binary holds about
// 250 million instructions; reachable code is far less).
const maxInstructions = 200 << 20

// Analyze reports what the code reachable from f's entry points needs.
func Analyze(f *elf.File) (*Report, error) { return AnalyzeFrom(f, nil) }

// AnalyzeFrom is Analyze with the functions f defines under the dynamic
// symbols names as entry points too: a shared library is entered through
// the symbols the objects loading it import.
func AnalyzeFrom(f *elf.File, names []string) (r *Report, err error) {
	// A hostile file must give an error, never a crash: debug/elf and
	// debug/gosym trust some of what they read.
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("reach: malformed program: %v", p)
		}
	}()
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("%w (%s, %s)", ErrUnsupported, f.Class, f.Machine)
	}
	p := &program{f: f, resolvers: map[uint64]bool{}}
	if err := p.load(); err != nil {
		return nil, err
	}
	w := newWalk(p)
	for _, root := range p.roots() {
		w.push(root)
	}
	if len(names) > 0 {
		want := map[string]bool{}
		for _, n := range names {
			want[n] = true
		}
		dyn, _ := f.DynamicSymbols()
		for _, s := range dyn {
			if want[s.Name] && elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Section != elf.SHN_UNDEF && s.Value != 0 && !p.resolvers[s.Value] && p.isCode(s.Value) {
				w.push(s.Value)
			}
		}
	}
	w.run()
	r = w.report()
	r.Unreached = p.unreached(w)
	if r.Stripped && r.Resolvers > 0 {
		r.Caveat = "stripped, with IFUNC variants (a static libc): code selected at run time cannot be told apart from the program's"
	}
	return r, nil
}

func (p *program) load() error {
	for _, s := range p.f.Sections {
		if s.Type != elf.SHT_PROGBITS || s.Flags&elf.SHF_EXECINSTR == 0 || s.Flags&elf.SHF_ALLOC == 0 {
			continue
		}
		data, err := s.Data()
		if err != nil {
			return fmt.Errorf("reach: section %s: %w", s.Name, err)
		}
		p.text = append(p.text, segment{s.Addr, data})
	}
	if len(p.text) == 0 {
		// No section headers: take the executable segments.
		for _, ph := range p.f.Progs {
			if ph.Type == elf.PT_LOAD && ph.Flags&elf.PF_X != 0 {
				data := make([]byte, ph.Filesz)
				if _, err := ph.ReadAt(data, 0); err != nil {
					return fmt.Errorf("reach: executable segment: %w", err)
				}
				p.text = append(p.text, segment{ph.Vaddr, data})
			}
		}
	}
	syms, err := p.f.Symbols()
	if err != nil || len(syms) == 0 {
		syms, _ = p.f.DynamicSymbols()
	}
	// A Go program's pclntab names every function, stripped or not.
	syms = append(syms, goFuncSymbols(p.f)...)
	p.goProgram = isGo(p.f, syms)
	p.vars = loadFeatureVars(p.f, syms)
	if p.goProgram {
		p.vars = p.goCPUVars(syms, p.vars)
	}
	p.openssl = hasSymbol(syms, "OPENSSL_ia32cap_P")
	p.tables = dispatchTables(syms)
	seen := map[uint64]bool{}
	for _, s := range syms {
		typ := elf.ST_TYPE(s.Info)
		if typ == elf.STT_LOOS || typ == elf.STT_FUNC && isDispatched(s.Name) {
			// STT_GNU_IFUNC: the symbol's value is its resolver.
			p.resolvers[s.Value] = true
			continue
		}
		if typ != elf.STT_FUNC || s.Value == 0 || s.Size == 0 || seen[s.Value] || !p.isCode(s.Value) {
			continue
		}
		seen[s.Value] = true
		p.funcs = append(p.funcs, fn{s.Name, s.Value, s.Value + s.Size})
	}
	sort.Slice(p.funcs, func(i, j int) bool { return p.funcs[i].start < p.funcs[j].start })
	for _, a := range p.relocAddends(37) { // R_X86_64_IRELATIVE
		p.resolvers[a] = true
	}
	return nil
}

// dispatched are the families of glibc functions chosen at run time by a
// CPU check of glibc's own rather than an IFUNC: the dynamic linker's
// lazy-binding, profiling and TLS-descriptor trampolines
// (sysdeps/x86_64/dl-trampoline.S, dl-tlsdesc-dynamic.h), one per
// register-saving method (fxsave, xsave, xsavec, AVX, AVX-512). A static
// binary carries them all and takes their addresses in
// _dl_relocate_object; only the one the CPU supports is ever used.
var dispatched = []string{"_dl_runtime_resolve_", "_dl_runtime_profile_", "_dl_tlsdesc_dynamic_"}

// isDispatched reports whether name is one of the dispatched families.
func isDispatched(name string) bool {
	for _, p := range dispatched {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// isCode reports whether addr is in an executable section.
func (p *program) isCode(addr uint64) bool {
	_, ok := p.code(addr)
	return ok
}

// code returns the bytes from addr to the end of its section.
func (p *program) code(addr uint64) ([]byte, bool) {
	for _, s := range p.text {
		if addr >= s.addr && addr < s.addr+uint64(len(s.data)) {
			return s.data[addr-s.addr:], true
		}
	}
	return nil, false
}

// function returns the function containing addr.
func (p *program) function(addr uint64) (fn, bool) {
	i := sort.Search(len(p.funcs), func(i int) bool { return p.funcs[i].start > addr }) - 1
	if i >= 0 && addr < p.funcs[i].end {
		return p.funcs[i], true
	}
	return fn{}, false
}

// relocAddends returns the addends of every RELA relocation of type typ.
func (p *program) relocAddends(typ uint32) []uint64 {
	var out []uint64
	p.eachRela(func(off uint64, t uint32, addend int64) {
		if t == typ {
			out = append(out, uint64(addend))
		}
	})
	return out
}

// eachRela calls fn with every relocation of the RELA sections.
func (p *program) eachRela(fn func(off uint64, typ uint32, addend int64)) {
	for _, s := range p.f.Sections {
		if s.Type != elf.SHT_RELA {
			continue
		}
		data, err := s.Data()
		if err != nil {
			continue
		}
		for i := 0; i+24 <= len(data); i += 24 {
			off := binary.LittleEndian.Uint64(data[i:])
			info := binary.LittleEndian.Uint64(data[i+8:])
			addend := int64(binary.LittleEndian.Uint64(data[i+16:]))
			fn(off, uint32(info), addend)
		}
	}
}

// roots are the entry points: the ELF entry, main, the .init/.fini code
// and the function pointers of .preinit_array, .init_array, .fini_array,
// and functions whose addresses data holds.
func (p *program) roots() []uint64 {
	out := []uint64{p.f.Entry}
	for _, f := range p.funcs {
		if f.name == "main" {
			out = append(out, f.start)
		}
	}
	for _, name := range []string{".init", ".fini"} {
		if s := p.f.Section(name); s != nil {
			out = append(out, s.Addr)
		}
	}
	// Pointers held in data: from the relocations of position-independent
	// code, and from the words of fixed-address code's data.
	p.eachRela(func(off uint64, typ uint32, addend int64) {
		if (typ == 8 || typ == 1) && !inSpans(p.tables, off) && p.plausibleStart(uint64(addend)) { // R_X86_64_RELATIVE, R_X86_64_64
			out = append(out, uint64(addend))
		}
	})
	for _, s := range p.f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Flags&elf.SHF_EXECINSTR != 0 || s.Type == elf.SHT_NOBITS {
			continue
		}
		switch s.Type {
		case elf.SHT_PROGBITS, elf.SHT_INIT_ARRAY, elf.SHT_FINI_ARRAY, elf.SHT_PREINIT_ARRAY:
		default:
			continue
		}
		data, err := s.Data()
		if err != nil {
			continue
		}
		for i := 0; i+8 <= len(data); i += 8 {
			v := binary.LittleEndian.Uint64(data[i:])
			if inSpans(p.tables, s.Addr+uint64(i)) {
				continue
			}
			if f, ok := p.function(v); ok && f.start == v {
				out = append(out, v)
			}
		}
	}
	return slices.DeleteFunc(out, func(a uint64) bool { return p.resolvers[a] || !p.isCode(a) })
}

// plausibleStart reports whether a code address data holds may be a
// function: with symbols, a function's start; without, an address
// compilers start functions at (16-byte aligned, or an endbr64, which
// every indirectly called function of a CET build begins with). Data
// holds addresses into the middle of code too (unwind and exception
// tables, computed labels); decoding from there decodes garbage.
func (p *program) plausibleStart(addr uint64) bool {
	if !p.isCode(addr) {
		return false
	}
	if len(p.funcs) > 0 {
		f, ok := p.function(addr)
		return !ok || f.start == addr
	}
	if addr%16 == 0 {
		return true
	}
	code, _ := p.code(addr)
	return len(code) >= 4 && code[0] == 0xf3 && code[1] == 0x0f && code[2] == 0x1e && code[3] == 0xfa
}

// unreached decodes the functions the walk did not reach, for the report.
func (p *program) unreached(w *walk) x86isa.Features {
	var out x86isa.Features
	for _, f := range p.funcs {
		if w.done[f.start] {
			continue
		}
		code, _ := p.code(f.start)
		end := min(int(f.end-f.start), len(code))
		for i := 0; i < end; {
			in, err := x86isa.Decode(code[i:end], f.start+uint64(i))
			if err != nil {
				i++
				continue
			}
			out |= in.Needs
			i += in.Len
		}
	}
	return out
}
