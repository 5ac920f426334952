// Command fileserver is the floor of the blob benchmarks
// (bench/serve/answers.sh): net/http's static file server (http.FileServer,
// sendfile(2) under it) over one directory.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
)

func main() {
	dir := flag.String("dir", "", "directory to serve (required)")
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "fileserver: -dir is required")
		os.Exit(2)
	}
	if err := http.ListenAndServe(*addr, http.FileServer(http.Dir(*dir))); err != nil {
		fmt.Fprintln(os.Stderr, "fileserver:", err)
		os.Exit(1)
	}
}
