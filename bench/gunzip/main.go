// Command gunzip decompresses gzip files to nothing, with the standard
// library's compress/gzip or klauspost/compress's gzip: the floor of
// reading every byte of an image's layers in Go, beside `gzip -dc`.
//
//	gunzip [-lib stdlib|klauspost] FILE...
package main

import (
	"bufio"
	stdgzip "compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"

	kgzip "github.com/klauspost/compress/gzip"
)

func main() {
	lib := flag.String("lib", "klauspost", "decompressor: stdlib or klauspost")
	flag.Parse()
	var total int64
	for _, name := range flag.Args() {
		n, err := gunzip(name, *lib)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gunzip %s: %v\n", name, err)
			os.Exit(1)
		}
		total += n
	}
	fmt.Println(total)
}

func gunzip(name, lib string) (int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var r io.Reader
	switch lib {
	case "stdlib":
		zr, err := stdgzip.NewReader(bufio.NewReader(f))
		if err != nil {
			return 0, err
		}
		r = zr
	case "klauspost":
		zr, err := kgzip.NewReader(bufio.NewReader(f))
		if err != nil {
			return 0, err
		}
		r = zr
	default:
		return 0, fmt.Errorf("unknown -lib %q", lib)
	}
	return io.Copy(io.Discard, r)
}
