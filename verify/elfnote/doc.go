// Package elfnote reads, from the head of an ELF file streamed once, what
// the file says it needs before any of its code runs: the x86 ISA level of
// its GNU property note (GNU_PROPERTY_X86_ISA_1_NEEDED, which binutils'
// -z x86-64-v3 and glibc builds for x86-64-v3 write, and which ld.so
// checks: "CPU ISA level is lower than required"), its program
// interpreter, its type and machine.
//
// Read consumes only the first bytes of the stream it needs (the ELF
// header, program headers, PT_INTERP and the note segments, which linkers
// put at the start of the file), so a layer's tar stream is read through
// once, never buffered whole.
package elfnote
