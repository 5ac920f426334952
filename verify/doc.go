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
// a temporary directory. The evidence, combined:
//
//   - ELF notes: GNU_PROPERTY_X86_ISA_1_NEEDED of the program, of its
//     dynamic linker and of the libraries it loads (a glibc built for
//     x86-64-v3, as RHEL 10's, refuses to start below it);
//   - machine code: the ISA extensions of the code reachable from the
//     program's entry points (package reach: glibc's IFUNC variants, chosen
//     at run time, do not count);
//   - a run of the entry's command under qemu-user with the CPU model of
//     the declared target (TCG emulates up to AVX2), or natively when this
//     host's CPU is the declared target: SIGILL or glibc's refusal proves a
//     lie;
//   - CUDA: the sm_XY/compute_XY code the CUDA runtime loads (the
//     .nv_fatbin of programs and libraries, .fatbin/.cubin/.ptx kernel
//     files; not __nv_relfatbin, not kernel-less device-link stubs)
//     against dev.tailor.cuda.arch: their union must cover every declared
//     arch, a declared compute_XY needs PTX for X.Y or older, and GPU code
//     an entry does not declare is a need (verify/cuda.go).
//
// The verdict is ok (evidence, and nothing beyond the declaration),
// mislabeled (it needs more: the evidence names what), or unverified
// (nothing could be checked: the reason says why). Record writes what
// each entry really needs into the index (dev.tailor.verified.*
// annotations), where match, and so resolve, pull, run and serve, honour
// it.
//
// A run executes the image's own program on this machine: qemu-user is an
// emulator, not a sandbox. Verify untrusted images in a disposable
// machine or container, or without runs (WithRun(false)).
package verify
