// Command registry runs the distribution registry (the registry:2 code,
// through internal/registrytest) on a loopback port for test/k8s/e2e.sh:
// the plain registries the cluster pulls from, one mirrored by tailor and
// one holding tailor's own image. It prints its host:port and serves until
// SIGTERM or SIGINT.
//
//	go run ./test/k8s/registry DIR
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tailor-dev/tailor/internal/registrytest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: registry STORAGE_DIR")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	host, shutdown, err := registrytest.Start(ctx, os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
	defer shutdown()
	fmt.Println(host)
	<-ctx.Done()
}
