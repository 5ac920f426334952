// Command registry runs a distribution registry (the one of the tests) on
// loopback for the multi-process blob benchmark: the upstream, or with
// -proxy distribution's own pull-through cache of it. It writes its
// host:port to -addr-file and serves until killed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tailor-dev/tailor/internal/registrytest"
)

func main() {
	dir := flag.String("dir", "", "storage directory (required)")
	addrFile := flag.String("addr-file", "", "file to write host:port to (required)")
	proxy := flag.String("proxy", "", "be a pull-through cache of this registry URL")
	flag.Parse()
	if err := run(*dir, *addrFile, *proxy); err != nil {
		fmt.Fprintln(os.Stderr, "registry:", err)
		os.Exit(1)
	}
}

func run(dir, addrFile, proxy string) error {
	if dir == "" || addrFile == "" {
		return fmt.Errorf("-dir and -addr-file are required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var opts []registrytest.Option
	if proxy != "" {
		opts = append(opts, registrytest.WithProxy(proxy))
	}
	host, shutdown, err := registrytest.Start(ctx, dir, opts...)
	if err != nil {
		return err
	}
	defer shutdown()
	if err := os.WriteFile(addrFile, []byte(host), 0o644); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}
