package reach

import (
	"fmt"

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
}

func newWalk(p *program) *walk {
	return &walk{p: p, done: map[uint64]bool{}, uses: map[x86isa.Features]*Use{}, symless: len(p.funcs) == 0}
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
			if !w.done[f.start] {
				w.done[f.start] = true
				w.funcs++
				w.function(f)
			}
			continue
		}
		if !w.done[addr] {
			w.other++ // a root or target no symbol bounds
		}
		w.descend(addr)
	}
}

// function decodes f whole, start to end.
func (w *walk) function(f fn) {
	code, _ := w.p.code(f.start)
	end := min(int(f.end-f.start), len(code))
	for i := 0; i < end; {
		in, err := x86isa.Decode(code[i:end], f.start+uint64(i))
		if err != nil {
			w.errs++
			i++
			continue
		}
		w.visit(in, f.name, f.start+uint64(i))
		i += in.Len
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
		if f, ok := w.p.function(in.Ref); ok && f.start == in.Ref || w.symless && w.p.isCode(in.Ref) {
			w.push(in.Ref)
		}
	}
}

func (w *walk) report() *Report {
	r := &Report{
		Needs:        w.needs,
		Functions:    w.funcs,
		Total:        len(w.p.funcs),
		Other:        w.other,
		Resolvers:    len(w.p.resolvers),
		Stripped:     w.symless,
		Instructions: w.insts,
		Errors:       w.errs,
	}
	if len(w.uses) > 0 {
		r.Uses = map[string]Use{}
		for f, u := range w.uses {
			r.Uses[f.String()] = *u
		}
	}
	return r
}
