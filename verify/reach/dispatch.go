package reach

import (
	"bytes"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/tailor-dev/tailor/verify/x86isa"
)

// Code behind a CPU-feature check is dispatch, never a need. The general
// rule: a conditional branch whose comparison reads a CPU-feature variable
// (directly, or through a register loaded from one a few instructions
// before) splits the code in two; the code reached only through its
// "feature present" edge runs only on CPUs that have the feature, so its
// instructions, and the functions it alone calls, do not count. The
// variables are known by name: what runtimes and compilers store CPUID's
// answers in.

// featureVarRE matches the symbols of CPU-feature variables:
//   - Go: internal/cpu.X86 (a struct of bools), golang.org/x/sys/cpu.X86
//     (vendored too), and the package variables derived from them
//     (runtime.x86HasPOPCNT, runtime.useAeshash, runtime.useAVXmemmove,
//     crypto/...cpu.X86HasAVX2, sha256.useAVX2, aes.supportsAES);
//   - gcc and clang's __builtin_cpu_supports: __cpu_model, __cpu_features2;
//   - OpenSSL's capability vector OPENSSL_ia32cap_P;
//   - Rust's is_x86_feature_detected!: std_detect::detect::cache::CACHE;
//   - glibc's own (_dl_x86_cpu_features, _rtld_global_ro's copy);
//   - the usual C names (x86_cpu_has_sse2, cpu_features, ia32cap, ...).
var featureVarRE = regexp.MustCompile(`(?i)(^|[./_])(cpu\.X86|cpu\.X86Has\w+|x86Has\w+|(use|uses|has|have|support|supports|enable|can)_?(avx|sse|ssse|fma|bmi|aes|sha|popcnt|pclmul|vpclmul|gfni|vaes|adx|erms|fsrm|movbe|rdrand|rdseed|lzcnt|f16c|cx16|osxsave|vnni|amx|neon|asimd)\w*)$` +
	`|(^|[./])(avx|avx2|avx512|sse\d*|ssse3|fma|bmi2?|aes|sha|popcnt|pclmul|gfni|vaes|adx)\w*(reqsmet|supported|enabled|available)$|^runtime\.memmoveBits$` +
	`|^__cpu_model$|^__cpu_features2?$|OPENSSL_ia32cap_P|std_detect.*cache.*CACHE|^_dl_x86_cpu_features$|^_rtld_global_ro$|(^|_)(x86_)?cpu_?(has|features?|caps?|flags|indicator)(_|$)|ia32cap`)

// featureVars are the address ranges of the feature variables, and the
// GOT slots that point at them.
type featureVars struct {
	ranges []span
	slots  map[uint64]bool
}

type span struct{ lo, hi uint64 }

// has reports whether addr is in a feature variable or a GOT slot of one.
func (v *featureVars) has(addr uint64) bool {
	if v == nil {
		return false
	}
	if v.slots[addr] {
		return true
	}
	i := sort.Search(len(v.ranges), func(i int) bool { return v.ranges[i].hi > addr })
	return i < len(v.ranges) && v.ranges[i].lo <= addr
}

// isFeatureVar reports whether a symbol names a CPU-feature variable.
func isFeatureVar(name string) bool {
	return name != "" && featureVarRE.MatchString(name)
}

// loadFeatureVars finds the feature variables of f's symbol tables.
func loadFeatureVars(f *elf.File, syms []elf.Symbol) *featureVars {
	v := &featureVars{slots: map[uint64]bool{}}
	for _, s := range syms {
		typ := elf.ST_TYPE(s.Info)
		if typ != elf.STT_OBJECT && typ != elf.STT_NOTYPE || s.Value == 0 || !isFeatureVar(s.Name) {
			continue
		}
		size := max(s.Size, 1)
		if size > 4096 {
			continue // no feature variable is that large
		}
		v.ranges = append(v.ranges, span{s.Value, s.Value + size})
	}
	sort.Slice(v.ranges, func(i, j int) bool { return v.ranges[i].lo < v.ranges[j].lo })
	// GOT slots: a GLOB_DAT or 64-bit relocation against a feature
	// variable's dynamic symbol (position-independent code reads the
	// variable's address from there).
	dyn, _ := f.DynamicSymbols()
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_RELA {
			continue
		}
		data, err := sec.Data()
		if err != nil {
			continue
		}
		for i := 0; i+24 <= len(data); i += 24 {
			off := binary.LittleEndian.Uint64(data[i:])
			info := binary.LittleEndian.Uint64(data[i+8:])
			typ, sym := uint32(info), info>>32
			switch {
			case typ == 8: // R_X86_64_RELATIVE: the slot of a local variable
				addend := binary.LittleEndian.Uint64(data[i+16:])
				if inSpans(v.ranges, addend) {
					v.slots[off] = true
				}
			case (typ == 6 || typ == 1) && sym > 0 && int(sym) <= len(dyn): // R_X86_64_GLOB_DAT, R_X86_64_64
				if isFeatureVar(dyn[sym-1].Name) {
					v.slots[off] = true
				}
			}
		}
	}
	if len(v.ranges) == 0 && len(v.slots) == 0 {
		return nil
	}
	return v
}

// cmpWindow is how many instructions a comparison may come before the
// branch that tests its flags.
const cmpWindow = 6

// dispatchEdges finds the conditional branches of a function's
// instructions that test a CPU feature, and returns, for each, whether
// its taken edge (true) or its fall-through edge (false) is the one
// where the feature is present. A comparison tests a feature when it
// reads a feature variable from memory, or a register loaded from one
// (registers are followed in the function's linear order: a load from a
// feature variable taints its destination, another write or a call
// clears it).
func dispatchEdges(insts []decoded, vars *featureVars, seeds map[int]uint16) (map[int]bool, []uint16) {
	if vars == nil && len(seeds) == 0 && !slices.ContainsFunc(insts, func(d decoded) bool { return d.in.CPUID }) {
		return nil, nil
	}
	taint := taintIn(insts, vars, seeds)
	out := map[int]bool{}
	lastCmp, cmpFeature := -1, false
	for i, d := range insts {
		in := d.in
		if in.Op != x86isa.OpNone {
			lastCmp, cmpFeature = i, in.HasRef && vars.has(in.Ref) || in.Reads&taint[i] != 0
		}
		if in.Flow == x86isa.FlowCall {
			lastCmp = -1
		}
		if in.Flow != x86isa.FlowCond || in.Cond < 0 || lastCmp < 0 || i-lastCmp > cmpWindow || !cmpFeature {
			continue
		}
		if taken, ok := presentEdge(&insts[lastCmp].in, in.Cond); ok {
			out[i] = taken
		}
	}
	return out, taint
}

// taintIn computes, for each instruction, the registers that may hold a
// value loaded from a feature variable, or a CPUID (or XGETBV) result,
// when it runs (seeds: what jumps
// from other functions bring to its entries; OpenSSL's bn_mul_mont loads
// OPENSSL_ia32cap_P and jumps into bn_mul4x_mont, which tests it): a
// forward data flow over the function's own control flow (a load from a feature variable,
// or through a register that points at one, taints its destination;
// another write or a call clears it).
func taintIn(insts []decoded, vars *featureVars, seeds map[int]uint16) []uint16 {
	in := make([]uint16, len(insts))
	for i, t := range seeds {
		in[i] |= t
	}
	out := func(i int) uint16 {
		d := insts[i].in
		t := in[i]
		if d.Writes >= 0 {
			if d.HasRef && vars.has(d.Ref) || d.Base >= 0 && t&(1<<d.Base) != 0 || d.CopyFrom >= 0 && t&(1<<d.CopyFrom) != 0 {
				t |= 1 << d.Writes
			} else {
				t &^= 1 << d.Writes
			}
		}
		if d.Flow == x86isa.FlowCall {
			t = 0
		}
		if d.CPUID {
			t |= 0xf // rax, rcx, rdx, rbx: what the CPU says of itself
		}
		return t
	}
	work := make([]int, len(insts))
	for i := range work {
		work[i] = len(insts) - 1 - i
	}
	queued := make([]bool, len(insts))
	for i := range queued {
		queued[i] = true
	}
	flow := func(to int, t uint16) {
		if in[to]|t != in[to] {
			in[to] |= t
			if !queued[to] {
				queued[to] = true
				work = append(work, to)
			}
		}
	}
	for steps := 0; len(work) > 0 && steps < 64*len(insts)+1024; steps++ {
		i := work[len(work)-1]
		work = work[:len(work)-1]
		queued[i] = false
		t := out(i)
		if t == 0 {
			continue
		}
		d := insts[i].in
		switch d.Flow {
		case x86isa.FlowJump, x86isa.FlowReturn, x86isa.FlowStop, x86isa.FlowIndirect:
		default:
			if i+1 < len(insts) {
				flow(i+1, t)
			}
		}
		if d.HasTarget && (d.Flow == x86isa.FlowJump || d.Flow == x86isa.FlowCond) {
			if j, ok := indexOf(insts, d.Target); ok {
				flow(j, t)
			}
		}
	}
	return in
}

// presentEdge says which edge of a Jcc with condition cond, after the
// comparison cmp of a feature variable, is the feature-present one.
func presentEdge(cmp *x86isa.Inst, cond int8) (taken, ok bool) {
	// A nonzero test or bit means present: jne/jb taken, je/jae fall
	// through. cmp $0 the same; cmp $1 (Go's CMPB ..., $1) or $mask the
	// other way round; cmp $n with ja/jae/jg/jge: a level above n.
	set := cmp.Op == x86isa.OpTest || cmp.Op == x86isa.OpBt || cmp.Op == x86isa.OpAnd ||
		cmp.Op == x86isa.OpCmp && cmp.HasImm && cmp.Imm == 0
	switch {
	case cmp.Op == x86isa.OpCmp && !cmp.HasImm:
		return false, false
	case set && (cond == 5 || cond == 2 || cond == 8 && cmp.Op != x86isa.OpBt):
		return true, true // jne, jb, js (the top bit: test %ax,%ax)
	case set && (cond == 4 || cond == 3 || cond == 9 && cmp.Op != x86isa.OpBt):
		return false, true // je, jae, jns
	case cmp.Op == x86isa.OpCmp && (cond == 4):
		return true, true
	case cmp.Op == x86isa.OpCmp && (cond == 5):
		return false, true
	case cmp.Op == x86isa.OpCmp && (cond == 7 || cond == 3 || cond == 0xf || cond == 0xd):
		return true, true // ja, jae, jg, jge
	case cmp.Op == x86isa.OpCmp && (cond == 6 || cond == 2 || cond == 0xe || cond == 0xc):
		return false, true // jbe, jb, jle, jl
	}
	return false, false
}

// decoded is one instruction of a function.
type decoded struct {
	addr uint64
	in   x86isa.Inst
}

// split marks which instructions of a function run only behind a CPU
// check: reached from the function's start (and its other known entries)
// only through a feature-present edge. In a function without an indirect
// jump, code reached by neither walk is dead (Go's asyncPreempt holds AVX
// and AVX-512 register saves that only a GOEXPERIMENT build jumps to) and
// is set apart too; with one, it may be a jump table's target and counts.
func split(insts []decoded, edges map[int]bool, entries []int) []bool {
	succ := func(i int, follow func(to int, feature bool)) {
		d := insts[i]
		present, isDispatch := edges[i]
		switch d.in.Flow {
		case x86isa.FlowJump, x86isa.FlowReturn, x86isa.FlowStop, x86isa.FlowIndirect:
		default:
			if i+1 < len(insts) {
				follow(i+1, isDispatch && !present)
			}
		}
		if d.in.HasTarget && (d.in.Flow == x86isa.FlowJump || d.in.Flow == x86isa.FlowCond) {
			if j, ok := indexOf(insts, d.in.Target); ok {
				follow(j, isDispatch && present)
			}
		}
	}
	walk := func(starts []int, allowFeature bool, seen []bool) {
		stack := starts
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[i] {
				continue
			}
			seen[i] = true
			succ(i, func(to int, feature bool) {
				if (allowFeature || !feature) && !seen[to] {
					stack = append(stack, to)
				}
			})
		}
	}
	if len(insts) == 0 {
		return nil
	}
	normal := make([]bool, len(insts))
	walk(append([]int{0}, entries...), false, normal)
	indirect := false
	var featureStarts []int
	for i := range insts {
		if !normal[i] {
			continue
		}
		if insts[i].in.Flow == x86isa.FlowIndirect {
			indirect = true
		}
		succ(i, func(to int, feature bool) {
			if feature && !normal[to] {
				featureStarts = append(featureStarts, to)
			}
		})
	}
	behind := make([]bool, len(insts))
	copy(behind, normal) // seen: do not re-enter normal code
	walk(featureStarts, true, behind)
	out := make([]bool, len(insts))
	any := false
	for i := range insts {
		if !normal[i] && (behind[i] || !indirect) {
			out[i], any = true, true
		}
	}
	if !any {
		return nil
	}
	return out
}

// goNamed are Go runtime functions whose code for some extensions runs
// only after a CPU check the general rule cannot see (named knowledge):
// indexbody's AVX2 part is reached for strings of 33 to 63 bytes, a
// length internal/bytealg.MaxLen allows only when it found AVX2 at start.
var goNamed = map[string]x86isa.Features{
	"indexbody": x86isa.AVX | x86isa.AVX2,
}

// isGo reports whether f is a Go program (its build information section,
// or the runtime's symbols).
func isGo(f *elf.File, syms []elf.Symbol) bool {
	if f.Section(".go.buildinfo") != nil {
		return true
	}
	for _, s := range syms {
		if s.Name == "runtime.main" || s.Name == "runtime.text" {
			return true
		}
	}
	return false
}

// tableRE matches the names of tables of one extension's variants.
// (gcExpandersAVX512), and the vtables of implementations named for a
// microarchitecture (simdutf's and simdjson's icelake, haswell and
// westmere kernels, chosen once at start by a CPU check).
var tableRE = regexp.MustCompile(`(?i)(avx512|avx2|avx|sse4|sse42|ssse3|vnni|amx)[a-z0-9_]*$|(expanders|kernels?|funcs|table)_?(avx512|avx2|avx|sse4|ssse3)` +
	`|^_ZT[VI]N\d+(simdutf|simdjson)\d+(icelake|haswell|westmere|arm64|ppc64|lsx|lasx|rvv|fallback)`)

// dispatchTables are the data symbols named for an extension's variants.
func dispatchTables(syms []elf.Symbol) []span {
	var out []span
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_OBJECT || s.Size < 16 || !tableRE.MatchString(s.Name) {
			continue
		}
		out = append(out, span{s.Value, s.Value + s.Size})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].lo < out[j].lo })
	return out
}

// inSpans reports whether addr is in one of the sorted spans.
func inSpans(ss []span, addr uint64) bool {
	i := sort.Search(len(ss), func(i int) bool { return ss[i].hi > addr })
	return i < len(ss) && ss[i].lo <= addr
}

// opensslAsmRE matches OpenSSL's perlasm routines (and BoringSSL's): each
// runs only after C code or its own entry tested OPENSSL_ia32cap_P,
// often by choosing a method table (AESNI_CAPABLE ? &aesni_128_cbc :
// ...) the general rule cannot follow. Named knowledge, applied in
// programs that hold OPENSSL_ia32cap_P.
var opensslAsmRE = regexp.MustCompile(`^_*(aesni_|vpaes_|bsaes_|ossl_bsaes_|ossl_vpaes_|ocb_|ossl_aes|ossl_rsaz_|rsaz_|bn_mulx4x|bn_sqrx8x|bn_powerx5|bn_sqr8x|bn_mul4x|bn_from_mont8x|bnx_|sha1_block_data_order_|sha256_block_data_order_|sha512_block_data_order_|sha1_multi_block|sha256_multi_block|ChaCha20_|chacha20_|poly1305_blocks_|poly1305_emit_|poly1305_init_|_?gcm_(init|gmult|ghash)_(avx|clmul)|ossl_gcm_|aes_gcm_|_?aesni_gcm_|ecp_nistz256_avx2_|ossl_extract_multiplier|x25519_fe51_mulx|x25519_fe64_|KeccakF1600_avx|OPENSSL_ia32_rd(rand|seed)_bytes|ossl_md5_block_asm_data_order|rc4_md5_enc|_?x86_64_AES_|aes_hw_|gcm_(init|gmult|ghash)_v8)|^_*ecp_nistz256_\w+x$`)

// hasSymbol reports whether syms hold one named name.
func hasSymbol(syms []elf.Symbol, name string) bool {
	for _, s := range syms {
		if s.Name == name {
			return true
		}
	}
	return false
}

// goFuncSymbols recovers the function symbols of a Go program from its
// pclntab, which the runtime needs, so stripping keeps it: the
// .gopclntab section, or (a position-independent program linked
// externally) the table inside .data.rel.ro, found by its header.
func goFuncSymbols(f *elf.File) []elf.Symbol {
	if f.Section(".go.buildinfo") == nil && f.Section(".gopclntab") == nil {
		return nil
	}
	data, addr, ok := goPclntab(f)
	if !ok || !plausiblePclntab(data) {
		return nil
	}
	lt := gosym.NewLineTable(data, 0)
	// The header's textStart (go1.18 and later) is filled by a dynamic
	// relocation in a position-independent program: read it from there.
	if text, ok := goTextStart(f, data, addr); ok {
		lt = gosym.NewLineTable(data, text)
		if binary.LittleEndian.Uint64(data[24:]) == 0 {
			d := slices.Clone(data)
			binary.LittleEndian.PutUint64(d[24:], text)
			lt = gosym.NewLineTable(d, text)
		}
	}
	tab, err := gosym.NewTable(nil, lt)
	if err != nil {
		return nil
	}
	out := make([]elf.Symbol, 0, len(tab.Funcs))
	for _, fn := range tab.Funcs {
		if fn.End > fn.Entry {
			out = append(out, elf.Symbol{Name: fn.Name, Info: elf.ST_INFO(elf.STB_GLOBAL, elf.STT_FUNC), Value: fn.Entry, Size: fn.End - fn.Entry})
		}
	}
	return out
}

// plausiblePclntab checks a go1.18+ pclntab header's counts against the
// table's size before debug/gosym sizes its allocations by them (a
// damaged header would ask for hundreds of gigabytes).
func plausiblePclntab(data []byte) bool {
	if len(data) < 64 || data[6] != 1 || data[7] != 8 {
		return false
	}
	nfunc, nfiles := binary.LittleEndian.Uint64(data[8:]), binary.LittleEndian.Uint64(data[16:])
	n := uint64(len(data))
	if nfunc == 0 || nfunc > n/8 || nfiles > n/4 {
		return false
	}
	for off := 32; off+8 <= 64; off += 8 { // funcnameOffset ... pclnOffset
		if binary.LittleEndian.Uint64(data[off:]) > n {
			return false
		}
	}
	return true
}

// goPclntab finds the pclntab: its bytes and address.
func goPclntab(f *elf.File) ([]byte, uint64, bool) {
	if s := f.Section(".gopclntab"); s != nil && s.Size < 1<<30 {
		data, err := s.Data()
		return data, s.Addr, err == nil
	}
	s := f.Section(".data.rel.ro")
	if s == nil || s.Size > 1<<30 {
		return nil, 0, false
	}
	data, err := s.Data()
	if err != nil {
		return nil, 0, false
	}
	for _, magic := range [][]byte{{0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8}, {0xf0, 0xff, 0xff, 0xff, 0, 0, 1, 8}} {
		if i := bytes.Index(data, magic); i >= 0 && i%8 == 0 {
			return data[i:], s.Addr + uint64(i), true
		}
	}
	return nil, 0, false
}

// goTextStart is the pclntab header's textStart (at offset 24), from the
// file or from the relative relocation that fills it.
func goTextStart(f *elf.File, data []byte, addr uint64) (uint64, bool) {
	if len(data) < 32 {
		return 0, false
	}
	if v := binary.LittleEndian.Uint64(data[24:]); v != 0 {
		return v, true
	}
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_RELA {
			continue
		}
		rel, err := sec.Data()
		if err != nil {
			continue
		}
		for i := 0; i+24 <= len(rel); i += 24 {
			if binary.LittleEndian.Uint64(rel[i:]) == addr+24 && uint32(binary.LittleEndian.Uint64(rel[i+8:])) == 8 {
				return binary.LittleEndian.Uint64(rel[i+16:]), true
			}
		}
	}
	return 0, false
}

// isGoStd reports whether a Go function belongs to the standard library
// (its package path's first element has no dot: runtime, crypto/...,
// internal/..., vendor/golang.org/x/...; or an assembly body with no
// package, such as aeshashbody), or to golang.org/x. The Go team's
// assembly uses an extension beyond the GOAMD64 level only after a CPU
// check (the standard library runs on x86-64-v1), and what compiled code
// needs within the level is the runtime's own enforced floor: so in a Go
// program these functions' extensions are dispatch, never needs.
func isGoStd(name string) bool {
	pkg := name
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		first := pkg[:strings.Index(pkg, "/")]
		return !strings.Contains(first, ".") || strings.HasPrefix(pkg, "golang.org/x/")
	}
	if i := strings.Index(pkg, "."); i >= 0 {
		pkg = pkg[:i]
		return pkg != "main" && pkg != ""
	}
	return true // an assembly body without a package (aeshashbody, memeqbody)
}

// goCPUInits are the Go functions that store what CPUID says: the
// runtime's x86HasPOPCNT, x86HasSSE41, x86HasFMA (what compiled code tests
// before popcnt, roundsd, vfmadd), internal/cpu.X86, x/sys/cpu.X86.
var goCPUInits = map[string]bool{
	"runtime.cpuinit": true, "internal/cpu.doinit": true,
	"golang.org/x/sys/cpu.archInit": true, "vendor/golang.org/x/sys/cpu.archInit": true,
	"golang.org/x/sys/cpu.doinit": true, "vendor/golang.org/x/sys/cpu.doinit": true,
}

// goCPUVars adds to v the variables a Go program's CPU-detecting
// functions write, found from their code: a stripped program has no data
// symbols to name them, but its pclntab names the functions.
func (p *program) goCPUVars(syms []elf.Symbol, v *featureVars) *featureVars {
	var writable []span
	for _, s := range p.f.Sections {
		if s.Flags&elf.SHF_WRITE != 0 && s.Flags&elf.SHF_ALLOC != 0 {
			writable = append(writable, span{s.Addr, s.Addr + s.Size})
		}
	}
	in := func(a uint64) bool {
		return slices.ContainsFunc(writable, func(s span) bool { return a >= s.lo && a < s.hi })
	}
	var add []span
	for _, s := range syms {
		if !goCPUInits[s.Name] || s.Size == 0 || s.Size > 1<<16 {
			continue
		}
		code, ok := p.code(s.Value)
		if !ok {
			continue
		}
		end := min(int(s.Size), len(code))
		for i := 0; i < end; {
			inst, err := x86isa.Decode(code[i:end], s.Value+uint64(i))
			if err != nil {
				i++
				continue
			}
			// A byte stored from a register (mov %al, var(%rip)): CPU-derived.
			if inst.HasRef && inst.Writes < 0 && inst.Op == x86isa.OpNone && inst.Flow == x86isa.FlowNext && in(inst.Ref) && isByteStore(code[i:i+inst.Len]) {
				add = append(add, span{inst.Ref, inst.Ref + 1})
			}
			i += inst.Len
		}
	}
	if len(add) == 0 {
		return v
	}
	if v == nil {
		v = &featureVars{slots: map[uint64]bool{}}
	}
	v.ranges = append(v.ranges, add...)
	sort.Slice(v.ranges, func(i, j int) bool { return v.ranges[i].lo < v.ranges[j].lo })
	return v
}

// isByteStore reports whether code is mov r8, m8 (88 /r) or mov $imm8,
// m8 (c6 /0), with a REX prefix or none.
func isByteStore(code []byte) bool {
	if len(code) > 0 && code[0]&0xf0 == 0x40 {
		code = code[1:]
	}
	return len(code) > 0 && (code[0] == 0x88 || code[0] == 0xc6)
}

// goExtensionFuncRE matches Go functions named for the extension they use
// (klauspost/compress's sequenceDecs_decode_bmi2, decompress4x_main_loop_amd64
// variants, minio's sha256 blockAvx2): the Go convention for assembly
// chosen by a CPU check (cpuinfo.HasBMI2()) in the caller.
var goExtensionFuncRE = regexp.MustCompile(`(?i)[_.]?(bmi2?|avx2|avx512\w*|avx|sse4\w*|ssse3|shani|sha_ni|aesni|gfni|vaes|vpclmulqdq)(\.abi0)?$`)

// indexOf finds the instruction at addr in insts (sorted by address).
func indexOf(insts []decoded, addr uint64) (int, bool) {
	if len(insts) == 0 || addr < insts[0].addr || addr > insts[len(insts)-1].addr {
		return 0, false
	}
	return slices.BinarySearchFunc(insts, addr, func(d decoded, a uint64) int {
		switch {
		case d.addr < a:
			return -1
		case d.addr > a:
			return 1
		}
		return 0
	})
}
