// Command tailor picks, builds, publishes and serves container images
// tailored to each host's CPU microarchitecture and GPU.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/tailor-dev/tailor/cmd/tailor/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
