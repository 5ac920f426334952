// Command cpuidrec prints what the processor it runs on says through
// CPUID and XGETBV, in the recorded form of detect's testdata/cpuid: run it
// under `qemu-x86_64 -cpu MODEL` or on a machine to record a new case.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/tailor-dev/tailor/detect"
)

func main() {
	c, ok := detect.ProbeCPUID()
	if !ok {
		fmt.Fprintln(os.Stderr, "cpuidrec: CPUID exists on amd64 only")
		os.Exit(1)
	}
	out, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, "cpuidrec:", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}
