// Package reach finds the ISA extensions an x86-64 ELF program's code
// needs, counting only code reachable from its entry points, so that code
// selected at run time does not count against it.
//
// A static glibc carries AVX2, EVEX and AVX-512 variants of memcpy,
// strlen and friends; a plain gcc -static -march=x86-64 binary holds
// hundreds of zmm instructions and still runs on any x86-64. glibc picks a
// variant at start through an IFUNC: the symbol's resolver (an
// STT_GNU_IFUNC symbol, or the addend of an R_X86_64_IRELATIVE relocation)
// returns the address of the variant the CPU can run, and calls go through
// a GOT slot, an indirect jump. The variants' addresses are taken only
// inside the resolvers. So the analysis walks the call graph from the
// program's entry points (the ELF entry, main, .init_array and
// .fini_array, .init and .fini), following direct calls and jumps and the
// addresses code takes (lea func(%rip), mov $func), never entering a
// resolver: what it reaches is what runs whatever the CPU, and its
// instructions are what the program needs. gcc's target_clones and
// target("avx2") multiversioning dispatch the same way and are excluded
// the same way.
//
// With a symbol table (not stripped), each reached function is decoded
// whole, from its symbol's start to its end, so the targets of jump tables
// inside it are covered. Without one, code is followed by recursive
// descent from the entry points, which misses code reached only through
// jump tables. Code a program reaches only through pointers stored in
// data (C++ vtables, callback tables) is reached through the data's
// relocations in position-independent code, and through 8-byte words of
// the data sections that are function starts in fixed-address code.
// Code reached only through a branch on a CPU-feature variable is
// dispatch too (dispatch.go): Go's internal/cpu, __builtin_cpu_supports'
// __cpu_model, OpenSSL's OPENSSL_ia32cap_P, Rust's std_detect cache,
// followed through registers, pointers, GOT slots and jumps between
// functions; by name where the check is out of sight: the Go standard
// library's assembly, OpenSSL's perlasm routines, tables and vtables of
// per-extension implementations. Without symbols (a stripped C program)
// the feature variables are not found: the verdict's run tells.
package reach
