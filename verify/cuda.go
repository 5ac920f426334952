package verify

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/verify/fatbin"
)

// cuda compares the GPU code the runtime loads with dev.tailor.cuda.arch
// (DESIGN.md §5a): the union of the kernels over the image's programs,
// libraries and kernel files must cover every declared architecture (a
// declared compute_XY needs PTX for X.Y or older: it promises every newer
// GPU by JIT); device-link stubs without kernels are no code; GPU code an
// entry does not declare is a need. It returns the lies, what the code
// really needs (when it lies), and whether anything was checked.
func (s *state) cuda() ([]string, []requirement.CUDAArch, bool) {
	ev := &s.res.Evidence
	var paths []string
	for p, f := range s.tree.files {
		if f.cudaForm != "" {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var union []fatbin.Entry
	for _, p := range paths {
		es := s.tree.files[p].cuda
		e := CUDAEvidence{Path: p, Archs: fatbin.Archs(es)}
		for _, x := range es {
			if x.Empty {
				e.Stubs = append(e.Stubs, x.Arch())
			} else {
				union = append(union, x)
			}
		}
		e.Stubs = slices.Compact(e.Stubs)
		ev.CUDA = append(ev.CUDA, e)
	}
	declared := s.reqs.CUDA
	code := codeArchs(union)
	switch {
	case len(paths) == 0:
		return nil, nil, false // no GPU code at all: built at run time, or none
	case len(code) == 0 && len(declared) == 0:
		return nil, nil, true // only stubs: no need
	case len(code) == 0 && !s.unlinkedOnly(paths):
		// Stubs only: the kernels may be built at run time (NVRTC, JIT
		// compilers) or come from outside the image; no evidence either way.
		return nil, nil, false
	case len(code) == 0:
		return []string{fmt.Sprintf("%s declares %s, but no file carries a GPU kernel the CUDA runtime loads (only %s)",
			requirement.AnnotationCUDAArch, joinArchs(declared), strings.Join(stubList(ev.CUDA), ", "))}, nil, true
	case len(declared) == 0:
		return []string{fmt.Sprintf("carries GPU code (%s in %s) but declares no %s: it needs an NVIDIA GPU that runs it",
			joinArchs(code), strings.Join(kernelPaths(ev.CUDA), ", "), requirement.AnnotationCUDAArch)}, code, true
	}
	var lies []string
	var keep []requirement.CUDAArch
	for _, a := range declared {
		if covered(union, a) {
			keep = append(keep, a)
			continue
		}
		lies = append(lies, fmt.Sprintf("%s: declared in %s, but no program, library or kernel file carries code that %s (they have %s)",
			a, requirement.AnnotationCUDAArch, promise(a), joinArchs(code)))
	}
	if len(lies) == 0 {
		return nil, nil, true
	}
	if len(keep) == 0 {
		keep = code
	}
	return lies, keep, true
}

// unlinkedOnly reports whether some file holds GPU code only outside
// .nv_fatbin: relocatable device code (-rdc) that was never device-linked
// into code the runtime loads, such as PTX-only -rdc objects nvlink could
// not link.
func (s *state) unlinkedOnly(paths []string) bool {
	for _, p := range paths {
		if f := s.tree.files[p]; len(f.cuda) == 0 {
			return true
		}
	}
	return false
}

// covered reports whether some code of es keeps the promise of declared
// arch a: compute_XY (plain) needs PTX for X.Y or older, since it promises
// every newer GPU; any other arch needs code that runs on its compute
// capability.
func covered(es []fatbin.Entry, a requirement.CUDAArch) bool {
	for _, e := range es {
		c, err := requirement.ParseCUDAArch(e.Arch())
		if err != nil {
			continue
		}
		if a.PTX && a.Suffix == "" {
			if c.PTX && c.Suffix == "" && c.Major*10+c.Minor <= a.Major*10+a.Minor {
				return true
			}
			continue
		}
		if ok, _ := c.RunsOn(a.Major, a.Minor); ok {
			return true
		}
	}
	return false
}

func promise(a requirement.CUDAArch) string {
	if a.PTX && a.Suffix == "" {
		return fmt.Sprintf("JIT-compiles for compute capability %s and every newer GPU (PTX for %s or older)", a.Capability(), a.Capability())
	}
	return "runs on compute capability " + a.Capability()
}

// codeArchs are the distinct architectures of es.
func codeArchs(es []fatbin.Entry) []requirement.CUDAArch {
	var out []requirement.CUDAArch
	for _, name := range fatbin.Archs(es) {
		if a, err := requirement.ParseCUDAArch(name); err == nil {
			out = append(out, a)
		}
	}
	return out
}

func joinArchs(as []requirement.CUDAArch) string {
	var s []string
	for _, a := range as {
		s = append(s, a.String())
	}
	return strings.Join(s, ", ")
}

func stubList(ev []CUDAEvidence) []string {
	var out []string
	for _, e := range ev {
		if len(e.Stubs) > 0 {
			out = append(out, fmt.Sprintf("kernel-less stubs %s in %s", strings.Join(e.Stubs, ", "), e.Path))
		}
	}
	if len(out) == 0 {
		out = append(out, "code nvlink reads, outside .nv_fatbin")
	}
	return out
}

func kernelPaths(ev []CUDAEvidence) []string {
	var out []string
	for _, e := range ev {
		if len(e.Archs) > 0 {
			out = append(out, e.Path)
		}
	}
	return out
}
