// Command dyn is built with CGO_ENABLED=0 and still linked dynamically, as
// tailor is: it loads a library at run time with purego (as tailor loads
// NVML). The image builder's test runs it in the image's root.
package main

import (
	"fmt"
	"os"

	"github.com/ebitengine/purego"
)

func main() {
	h, err := purego.Dlopen("libm.so.6", purego.RTLD_NOW)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dlopen:", err)
		os.Exit(1)
	}
	var sqrt func(float64) float64
	purego.RegisterLibFunc(&sqrt, h, "sqrt")
	fmt.Println("dyn: sqrt(16) =", sqrt(16))
}
