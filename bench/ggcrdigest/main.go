// Command ggcrdigest is the baseline of tailor's resolve benchmark: the
// digest of the image an index holds for one platform, chosen by
// go-containerregistry alone, exactly as `crane digest --platform P REF`
// does it (the index GET, the first entry of that platform, and the
// child manifest GET ggcr makes to describe it).
//
//	ggcrdigest --platform linux/amd64 localhost:5000/app:1
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/crane"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func main() {
	platform := flag.String("platform", "linux/amd64", "os/arch[/variant] to select")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: ggcrdigest [--platform os/arch] REF")
		os.Exit(2)
	}
	p, err := v1.ParsePlatform(*platform)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ggcrdigest:", err)
		os.Exit(2)
	}
	d, err := crane.Digest(flag.Arg(0), crane.WithPlatform(p))
	if err != nil {
		fmt.Fprintln(os.Stderr, "ggcrdigest:", err)
		os.Exit(1)
	}
	fmt.Println(d)
}
