package verify

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/requirement"
	"github.com/tailor-dev/tailor/verify/reach"
)

// Verdict is the outcome for one entry.
type Verdict string

// Verdicts.
const (
	// OK: evidence was found, and nothing beyond what the entry declares.
	OK Verdict = "ok"
	// Mislabeled: the entry needs more than it declares.
	Mislabeled Verdict = "mislabeled"
	// Unverified: nothing could be checked; Reasons says why.
	Unverified Verdict = "unverified"
)

// Result is the verdict on one entry, with its evidence.
type Result struct {
	// Index is the entry's position in the index.
	Index int `json:"index"`
	// Digest is the entry's image manifest digest.
	Digest v1.Hash `json:"digest"`
	// Platform is the entry's os/architecture[/variant].
	Platform string `json:"platform"`
	// Declared is what the entry declares, in short form ("generic",
	// "cpu=haswell").
	Declared string `json:"declared"`
	// Verdict is ok, mislabeled or unverified.
	Verdict Verdict `json:"verdict"`
	// Reasons say what is mislabeled (naming the feature or level), or
	// why nothing could be verified.
	Reasons []string `json:"reasons,omitempty"`
	// Needs is what the entry's code really needs, in short form
	// (cpu=x86_64_v3,features=avx512f); empty when nothing beyond the
	// architecture was found. Record stores it.
	Needs string `json:"needs,omitempty"`
	// Evidence is what was looked at.
	Evidence Evidence `json:"evidence"`

	needs      requirement.Requirements
	needsKnown bool
}

// Evidence is what verify found in an entry.
type Evidence struct {
	// Program is the program the entry runs, as found in the image, and
	// the command it was found from.
	Program string   `json:"program,omitempty"`
	Command []string `json:"command,omitempty"`
	// Notes are the ELF files whose ISA level note counts: the program,
	// its dynamic linker and the libraries it loads.
	Notes []NoteEvidence `json:"elf_notes,omitempty"`
	// OtherNotes counts the other ELF files that need an x86-64 level
	// beyond the baseline (not counted: the program does not load them).
	OtherNotes []NoteEvidence `json:"other_elf_notes,omitempty"`
	// Go is the Go build information of the program, when it is Go.
	Go *GoEvidence `json:"go,omitempty"`
	// Code is what the program's reachable code needs.
	Code *CodeEvidence `json:"code,omitempty"`
	// Run is the run of the command under the declared CPU.
	Run *RunEvidence `json:"run,omitempty"`
	// BaselineRun is a second run on the lowest real x86-64 (Opteron_G1),
	// made when the code is said to need what the first model had beyond
	// the declared target.
	BaselineRun *RunEvidence `json:"baseline_run,omitempty"`
	// CUDA lists the fat binaries found.
	CUDA []CUDAEvidence `json:"cuda,omitempty"`
	// Files and ELF count what the walk saw; BytesRead is the compressed
	// size of the layers streamed, Uncompressed what they held; Seconds
	// is the wall time spent on the entry.
	Files        int     `json:"files"`
	ELF          int     `json:"elf_files"`
	Layers       int     `json:"layers"`
	BytesRead    int64   `json:"bytes_read"`
	Uncompressed int64   `json:"bytes_uncompressed"`
	Extracted    int64   `json:"bytes_extracted"`
	Seconds      float64 `json:"seconds"`
}

// NoteEvidence is one ELF file's x86 ISA level note.
type NoteEvidence struct {
	Path string `json:"path"`
	// Level is x86-64-v2, -v3 or -v4 (or baseline).
	Level string `json:"level"`
	// Role is program, interpreter or library.
	Role string `json:"role,omitempty"`
}

// GoEvidence is what a Go program's build information says.
type GoEvidence struct {
	Version string `json:"version"`
	// GOAMD64 is the level the runtime enforces (v1: none).
	GOAMD64 string `json:"goamd64"`
}

// CodeEvidence is the machine code analysis of the program.
type CodeEvidence struct {
	// Needs are the ISA extensions of the reachable code, catalog names.
	Needs []string `json:"needs"`
	// Level is the lowest x86-64 level that has them all (x86-64-v3);
	// empty when none does or nothing is needed.
	Level string `json:"level,omitempty"`
	// Beyond are those the declaration does not give.
	Beyond []string `json:"beyond_declared,omitempty"`
	// Selected are extensions only code selected at run time uses (glibc's
	// IFUNC variants): not counted.
	Selected []string `json:"run_time_selected,omitempty"`
	// Report is the analysis' detail: where each extension was first seen,
	// functions reached.
	Report *reach.Report `json:"detail"`
	// Skipped says why the code was not analysed or not counted.
	Skipped string `json:"skipped,omitempty"`
}

// RunEvidence is the run of the entry's command.
type RunEvidence struct {
	// CPU is the qemu CPU model, or "host".
	CPU string `json:"cpu,omitempty"`
	// Emulator is the qemu-user binary; empty for a native run.
	Emulator string `json:"emulator,omitempty"`
	// Outcome is sigill, refused (an ISA check of ld.so, glibc or the Go
	// runtime), exited, trapped (a SIGILL at the program's own ud2: no
	// evidence), timeout, not-started (the program's own code never ran:
	// not found, a missing library or module), failed (could not be
	// started at all) or skipped.
	Outcome string `json:"outcome"`
	// ExitCode is the exit status (128+signal for a signal).
	ExitCode int     `json:"exit_code,omitempty"`
	Seconds  float64 `json:"seconds,omitempty"`
	// Stderr is the end of what the program printed on stderr.
	Stderr string `json:"stderr,omitempty"`
	// Detail says why a run was skipped, failed or did not start, or who
	// refused it.
	Detail string `json:"detail,omitempty"`
	// Fault is the instruction a SIGILL stopped at, when it was found.
	Fault *Fault `json:"fault,omitempty"`
}

// Fault is the instruction a run died on with SIGILL.
type Fault struct {
	// Address is where it was in the running process.
	Address uint64 `json:"address"`
	// File is the image path of the ELF file holding it, and Offset its
	// virtual address in that file; empty when the bytes came from the
	// Go runtime's report.
	File   string `json:"file,omitempty"`
	Offset uint64 `json:"vaddr,omitempty"`
	// Bytes are the instruction's bytes, in hex.
	Bytes string `json:"bytes,omitempty"`
	// Needs are the ISA extensions the instruction needs, catalog names;
	// empty when the decoder does not know them.
	Needs []string `json:"needs,omitempty"`
	// Detail says how it was found, or why not.
	Detail string `json:"detail,omitempty"`
}

// CUDAEvidence is the CUDA code of one file.
type CUDAEvidence struct {
	Path string `json:"path"`
	// Archs are the architectures of its modules with kernels.
	Archs []string `json:"archs"`
	// Stubs are those of its modules without kernels (device-link stubs):
	// loaded, never a need.
	Stubs []string `json:"stubs,omitempty"`
}
