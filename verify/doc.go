// Package verify finds what each entry of an image index really needs
// from a host and compares it with what the entry declares (DESIGN.md
// §5a): the labels publishers put on builds can lie, and a build that
// needs more than its label says dies with SIGILL, "Fatal glibc error:
// CPU does not support x86-64-v3" or "CPU ISA level is lower than
// required" on the hosts the label sends it to.
//
// For each entry, its layers are streamed once (never unpacked whole):
// every ELF file's head is read for its x86 ISA level note, every ELF
// file and kernel file is read for the GPU code it holds, and the files a check needs (the
// program the entry runs, the shared libraries a run loads) are copied to
// a temporary directory. The evidence, strongest first (DESIGN §5a):
//
//   - a crash under the declared CPU: a run of the entry's command under
//     qemu-user with a real CPU model of the declared target (Conroe,
//     Nehalem, Haswell, ...; never qemu64; TCG stops at AVX2), or natively
//     when this host is the declared target; a SIGILL's instruction is
//     decoded and named (fault.go), so a crash records a known need;
//   - checks the program or its loader enforce: the ISA level notes
//     (GNU_PROPERTY_X86_ISA_1_NEEDED) of what ld.so loads, glibc's and the
//     Go runtime's refusals, a Go build's GOAMD64;
//   - code that runs unconditionally: the extensions of the reachable code
//     (package reach), where code behind a CPU-feature check is dispatch;
//   - CUDA: the sm_XY/compute_XY code the CUDA runtime loads (the
//     .nv_fatbin of programs and libraries, .fatbin/.cubin/.ptx kernel
//     files; not __nv_relfatbin, not kernel-less device-link stubs)
//     against dev.tailor.cuda.arch: their union must cover every declared
//     arch, a declared compute_XY needs PTX for X.Y or older, and GPU code
//     an entry does not declare is a need (verify/cuda.go).
//
// The verdict is ok (evidence, and nothing beyond the declaration),
// mislabeled (strong evidence that it needs more: the reasons name what),
// or unverified (nothing could be checked, or the run never started: the
// reason says why). A run that exercised the program wins over the code
// analysis for the extensions its CPU model lacks. Record writes what
// each entry really needs into the index (dev.tailor.verified.*
// annotations), where match, and so resolve, pull, run and serve, honour
// it.
//
// A run executes the image's own program on this machine: qemu-user is an
// emulator, not a sandbox. Verify untrusted images in a disposable
// machine or container, or without runs (WithRun(false)).
package verify
