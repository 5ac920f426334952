package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/tailor-dev/tailor/remote"
	"github.com/tailor-dev/tailor/resolve"
)

// registryFlags are the registry access flags of resolve, inspect, pull,
// run, index and build.
type registryFlags struct {
	insecure []string
	timeout  time.Duration
	retries  int
}

func (r *registryFlags) add(f *pflag.FlagSet) {
	f.StringSliceVar(&r.insecure, "insecure-registry", nil, "registry (host:port) that may be reached over plain HTTP (repeatable; loopback always may)")
	f.DurationVar(&r.timeout, "timeout", remote.DefaultTimeout, "bound on each registry call, retries included")
	f.IntVar(&r.retries, "retries", remote.DefaultBackoff.Steps-1, "retries of a temporary registry error (5xx, 429, reset connection)")
}

// transferTimeout is the default --timeout of the commands whose bound
// covers layer transfers (pull: the whole pull; build: each image's push),
// rather than one manifest call: time for large layers.
const transferTimeout = 30 * time.Minute

// boundTransfers gives --timeout the meaning usage says, with the default
// transferTimeout.
func (r *registryFlags) boundTransfers(f *pflag.FlagSet, usage string) {
	r.timeout = transferTimeout
	t := f.Lookup("timeout")
	t.DefValue = transferTimeout.String()
	t.Usage = usage
}

// bounded runs fn with the command's context bounded by --timeout (0:
// none), for commands whose registry work is many calls (index create
// copies images between repositories).
func (r *registryFlags) bounded(fn func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if r.timeout > 0 {
			ctx, cancel := context.WithTimeout(cmd.Context(), r.timeout)
			defer cancel()
			cmd.SetContext(ctx)
		}
		err := fn(cmd, args)
		if err != nil && errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("timed out after %s (--timeout): %w", r.timeout, err)
		}
		return err
	}
}

// client builds the registry client the flags describe.
func (r *registryFlags) client() (*remote.Client, error) {
	if r.retries < 0 {
		return nil, usageError(fmt.Errorf("--retries %d: must not be negative", r.retries))
	}
	b := remote.DefaultBackoff
	b.Steps = r.retries + 1
	c, err := remote.New(remote.WithInsecure(r.insecure...), remote.WithTimeout(r.timeout), remote.WithRetry(b), remote.WithLogger(slog.Default()))
	if err != nil {
		return nil, usageError(err)
	}
	return c, nil
}

// registryError marks bad references and destinations as usage errors;
// registry failures keep exit status 1.
func registryError(err error) error {
	if errors.Is(err, remote.ErrBadReference) || errors.Is(err, resolve.ErrBadDest) {
		return usageError(err)
	}
	return err
}
