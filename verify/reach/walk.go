package reach

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/tailor-dev/tailor/verify/x86isa"
)

// walk is one traversal of the call graph.
type walk struct {
	p     *program
	queue []uint64
	// done marks function starts decoded whole, and, without a symbol,
	// instruction addresses decoded by recursive descent.
	done    map[uint64]bool
	needs   x86isa.Features
	uses    map[x86isa.Features]*Use
	funcs   int
	other   int
	insts   int
	errs    int
	symless bool
	// dispatched: what code behind a CPU check uses; branches: how many
	// such checks were seen.
	dispatched x86isa.Features
	branches   int
	// parked are the functions with code set apart, kept so that a later
	// entry into their middle can reach it; entries are the addresses
	// pushed inside a function before it was decoded.
	parked  map[uint64]*parkedFn
	entries map[uint64][]uint64
	// carried are the feature-variable registers jumps from other
	// functions carry to an address.
	carried map[uint64]uint16
}

// parkedFn is a function, and which of its instructions were set apart
// and not visited since (its code is decoded again on a later entry:
// keeping every parked function's instructions would cost gigabytes on a
// large program).
// visited since.
type parkedFn struct {
	f      fn
	behind []bool
}

func newWalk(p *program) *walk {
	return &walk{p: p, done: map[uint64]bool{}, uses: map[x86isa.Features]*Use{}, symless: len(p.funcs) == 0,
		parked: map[uint64]*parkedFn{}, entries: map[uint64][]uint64{}, carried: map[uint64]uint16{}}
}

// push queues code at addr unless it is an IFUNC resolver or not code.
func (w *walk) push(addr uint64) {
	if w.p.resolvers[addr] || !w.p.isCode(addr) {
		return
	}
	w.queue = append(w.queue, addr)
}

func (w *walk) run() {
	for len(w.queue) > 0 && w.insts < maxInstructions {
		addr := w.queue[len(w.queue)-1]
		w.queue = w.queue[:len(w.queue)-1]
		if f, ok := w.p.function(addr); ok {
			switch {
			case !w.done[f.start]:
				if addr != f.start {
					w.entries[f.start] = append(w.entries[f.start], addr)
				}
				w.done[f.start] = true
				w.funcs++
				w.function(f)
			case addr != f.start && w.parked[f.start] != nil:
				w.enter(w.parked[f.start], addr)
			}
			continue
		}
		if !w.done[addr] {
			w.other++ // a root or target no symbol bounds
		}
		w.descend(addr)
	}
}

// function decodes f whole, start to end; the code it runs only behind a
// CPU-feature check is set apart (dispatch.go).
func (w *walk) function(f fn) {
	insts := w.decodeFn(f)
	var entries []int
	seeds := map[int]uint16{}
	for _, a := range append([]uint64{f.start}, w.entries[f.start]...) {
		if i, ok := slices.BinarySearchFunc(insts, a, func(d decoded, a uint64) int { return cmp.Compare(d.addr, a) }); ok {
			if a != f.start {
				entries = append(entries, i)
			}
			if t := w.carried[a]; t != 0 {
				seeds[i] |= t
			}
		}
	}
	edges, taint := dispatchEdges(insts, w.p.vars, seeds)
	for i, d := range insts {
		if taint != nil && taint[i] != 0 && d.in.HasTarget && (d.in.Flow == x86isa.FlowJump || d.in.Flow == x86isa.FlowCond) &&
			(d.in.Target < f.start || d.in.Target >= f.end) {
			w.carried[d.in.Target] |= taint[i]
		}
	}
	behind := split(insts, edges, entries)
	if behind != nil {
		w.branches += len(edges)
		w.parked[f.start] = &parkedFn{f: f, behind: behind}
	}
	named := x86isa.Features(0)
	switch {
	case w.p.goProgram && (isGoStd(f.name) || goExtensionFuncRE.MatchString(f.name)):
		named = ^x86isa.Features(0)
	case w.p.goProgram:
		named = goNamed[f.name]
	case w.p.openssl && opensslAsmRE.MatchString(f.name):
		named = ^x86isa.Features(0)
	}
	for i, d := range insts {
		if behind != nil && behind[i] {
			w.insts++
			w.dispatched |= d.in.Needs
			continue
		}
		if d.in.Needs&named != 0 {
			w.dispatched |= d.in.Needs & named
			d.in.Needs &^= named
		}
		if present, ok := edges[i]; ok && present && d.in.HasTarget {
			// A feature-present edge into another function (OpenSSL's
			// "je .Lmulx4x_enter"): what it reaches runs behind the check.
			d.in.HasTarget = false
		}
		w.visitIn(d.in, f, d.addr)
	}
}

// visitIn visits an instruction of function f: its jumps inside f are
// f's own control flow, which split followed.
func (w *walk) visitIn(in x86isa.Inst, f fn, addr uint64) {
	if in.HasTarget && in.Flow != x86isa.FlowCall && in.Target >= f.start && in.Target < f.end {
		in.HasTarget = false
	}
	w.visit(in, f.name, addr)
}

// decodeFn decodes f whole, start to end (linearly: bytes that decode to
// nothing are skipped one at a time, counted as errors the first time).
func (w *walk) decodeFn(f fn) []decoded {
	code, _ := w.p.code(f.start)
	end := min(int(f.end-f.start), len(code))
	insts := make([]decoded, 0, end/4)
	for i := 0; i < end; {
		in, err := x86isa.Decode(code[i:end], f.start+uint64(i))
		if err != nil {
			if !w.done[f.start] || w.parked[f.start] == nil {
				w.errs++
			}
			i++
			continue
		}
		insts = append(insts, decoded{f.start + uint64(i), in})
		i += in.Len
	}
	return insts
}

// enter visits the code of a parked function that an entry at addr, into
// its middle, reaches without a CPU check.
func (w *walk) enter(pf *parkedFn, addr uint64) {
	insts := w.decodeFn(pf.f)
	if len(insts) != len(pf.behind) {
		return
	}
	i, ok := slices.BinarySearchFunc(insts, addr, func(d decoded, a uint64) int { return cmp.Compare(d.addr, a) })
	if !ok || !pf.behind[i] {
		return
	}
	edges, _ := dispatchEdges(insts, w.p.vars, map[int]uint16{i: w.carried[addr]})
	again := split(insts, edges, []int{i})
	for k, d := range insts {
		if pf.behind[k] && (again == nil || !again[k]) {
			pf.behind[k] = false
			w.visitIn(d.in, pf.f, d.addr)
		}
	}
}

// descend decodes from addr along control flow, for code no symbol
// bounds (stripped files, PLT stubs).
func (w *walk) descend(addr uint64) {
	for w.insts < maxInstructions {
		if w.done[addr] {
			return
		}
		if f, ok := w.p.function(addr); ok && f.start != addr {
			w.push(f.start) // fell into a known function
			return
		} else if ok {
			w.push(addr)
			return
		}
		w.done[addr] = true
		code, ok := w.p.code(addr)
		if !ok {
			return
		}
		in, err := x86isa.Decode(code, addr)
		if err != nil {
			w.errs++
			return
		}
		w.visit(in, fmt.Sprintf("%#x", addr), addr)
		switch in.Flow {
		case x86isa.FlowJump, x86isa.FlowReturn, x86isa.FlowStop, x86isa.FlowIndirect:
			return
		}
		addr += uint64(in.Len)
	}
}

// visit records what in needs and queues the code it reaches.
func (w *walk) visit(in x86isa.Inst, where string, addr uint64) {
	w.insts++
	if in.Needs != 0 {
		w.needs |= in.Needs
		in.Needs.Each(func(f x86isa.Features) {
			if u, ok := w.uses[f]; ok {
				u.Count++
				return
			}
			w.uses[f] = &Use{Function: where, Address: addr, Count: 1}
		})
	}
	if in.HasTarget {
		w.push(in.Target)
	}
	if in.HasRef {
		if f, ok := w.p.function(in.Ref); ok && f.start == in.Ref || w.symless && w.p.plausibleStart(in.Ref) {
			w.push(in.Ref)
		}
	}
}

func (w *walk) report() *Report {
	r := &Report{
		Needs:            w.needs,
		Functions:        w.funcs,
		Total:            len(w.p.funcs),
		Other:            w.other,
		Resolvers:        len(w.p.resolvers),
		Stripped:         w.symless,
		Dispatched:       w.dispatched,
		DispatchBranches: w.branches,
		Instructions:     w.insts,
		Errors:           w.errs,
	}
	if len(w.uses) > 0 {
		r.Uses = map[string]Use{}
		for f, u := range w.uses {
			r.Uses[f.String()] = *u
		}
	}
	return r
}
