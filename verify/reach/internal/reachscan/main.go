// Command reachscan runs the reachable-code analysis on ELF programs and
// prints those whose code needs an extension beyond x86-64 (SSE2), with
// where each was first seen. On a distribution's own programs, built for
// baseline x86-64 and so running on any, every line is a false "needs":
//
//	go run ./verify/reach/internal/reachscan $(find /usr/bin /usr/sbin -maxdepth 1 -type f -size +1k)
//
// REACHSCAN_CPUPROFILE=FILE writes a CPU profile.
package main

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"

	"github.com/tailor-dev/tailor/verify/reach"
)

func main() {
	if p := os.Getenv("REACHSCAN_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	tot, bad, caveat := 0, 0, 0
	for _, p := range os.Args[1:] {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN || f.Machine != elf.EM_X86_64 {
			f.Close()
			continue
		}
		r, err := reach.Analyze(f)
		f.Close()
		if err != nil {
			continue
		}
		tot++
		if r.Caveat != "" {
			caveat++
			continue
		}
		if r.Needs != 0 {
			bad++
			fmt.Printf("%s: %v (dispatched %v, branches %d)", filepath.Base(p), r.Needs, r.Dispatched, r.DispatchBranches)
			for k, u := range r.Uses {
				fmt.Printf(" [%s in %s]", k, u.Function)
			}
			fmt.Println()
		}
	}
	fmt.Printf("%d programs, %d with needs beyond x86-64, %d caveats\n", tot, bad, caveat)
}
