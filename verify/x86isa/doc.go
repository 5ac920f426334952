// Package x86isa decodes x86-64 machine code far enough to tell what each
// instruction needs from the processor: its length, its control-flow and
// address-taking targets, and the ISA extensions it needs (sse4_1, avx2,
// fma, avx512f, ...), named as the catalog and Linux /proc/cpuinfo name
// them.
//
// It is not a disassembler: operands are not printed and most opcodes are
// not named. It knows every legacy, VEX, EVEX and XOP encoding's length, so
// linear decoding stays in step, and classifies the extensions that decide
// an x86-64 level (x86-64-v2: SSSE3, SSE4.1/4.2, POPCNT, CMPXCHG16B,
// LAHF; v3: AVX, AVX2, FMA, F16C, BMI1/2, LZCNT, MOVBE; v4: AVX-512), the
// AVX-512 subsets apart (F, CD, BW, DQ, VL, IFMA, VBMI, VBMI2, VNNI,
// BITALG, VPOPCNTDQ, BF16, FP16, VP2INTERSECT), AMX and others compilers
// emit (AES, PCLMULQDQ, SHA, GFNI, VAES, VPCLMULQDQ, ADX, RDRAND). For the
// dispatch analysis it also says which comparison an instruction is, which
// registers it reads and writes, and a Jcc's condition.
// Instructions that run everywhere in another meaning (TZCNT is BSF on
// older CPUs) or that only run after a CPU check by construction (XSAVE
// and XGETBV in OS-state code) are not counted.
package x86isa
