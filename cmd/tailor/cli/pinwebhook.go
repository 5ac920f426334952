package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/pin"
)

func init() { register(newPinWebhookCommand) }

type pinWebhookOptions struct {
	registry     registryFlags
	listen       string
	cert, key    string
	admitTimeout time.Duration
	plainHTTP    bool
}

func newPinWebhookCommand() *cobra.Command {
	o := &pinWebhookOptions{}
	cmd := &cobra.Command{
		Use:   "pin-webhook --tls-cert FILE --tls-key FILE",
		Short: "Serve the admission webhook that keeps tailoring for pods pinned to an index digest",
		Long: `pin-webhook is a Kubernetes mutating admission webhook (POST /mutate, health at
/healthz). Each container image of a new pod pinned to the digest of an index
tailor can choose in (REPO@sha256:<hex>) becomes the pin tag of that digest,
REPO:sha256-<hex>.tailor, which a node's tailor serve mirror answers with the
node's best entry of exactly that index. The original reference is kept in the
pod's tailor.dev/pinned annotation. Anything else passes through unchanged:
images it cannot read within --admission-timeout, pinned image manifests,
indexes with nothing to choose. Register it with failurePolicy: Ignore
(deploy/pin) so a pod never waits on it.`,
		Example: `  tailor pin-webhook --listen :8443 --tls-cert /tls/tls.crt --tls-key /tls/tls.key`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runPinWebhook(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", ":8443", "address to listen on")
	f.StringVar(&o.cert, "tls-cert", "", "TLS certificate (PEM) the API server trusts (required unless --plain-http)")
	f.StringVar(&o.key, "tls-key", "", "TLS key (PEM)")
	f.BoolVar(&o.plainHTTP, "plain-http", false, "serve plain HTTP (behind a TLS-terminating proxy only: the API server calls webhooks over HTTPS)")
	f.DurationVar(&o.admitTimeout, "admission-timeout", pin.DefaultTimeout, "bound on the registry reads of one admission request (keep it under the webhook's timeoutSeconds)")
	o.registry.add(f)
	return cmd
}

func runPinWebhook(cmd *cobra.Command, o *pinWebhookOptions) error {
	if !o.plainHTTP && (o.cert == "" || o.key == "") {
		return usageError(errors.New("--tls-cert and --tls-key are required (the API server calls webhooks over HTTPS)"))
	}
	c, err := o.registry.client()
	if err != nil {
		return err
	}
	wh, err := pin.New(pin.WithClient(c), pin.WithTimeout(o.admitTimeout), pin.WithLogger(slog.Default()))
	if err != nil {
		return usageError(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/mutate", wh)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", o.listen, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	slog.Info("tailor pin-webhook listening", "addr", ln.Addr().String(), "tls", !o.plainHTTP)
	errc := make(chan error, 1)
	go func() {
		if o.plainHTTP {
			errc <- srv.Serve(ln)
		} else {
			errc <- srv.ServeTLS(ln, o.cert, o.key)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-cmd.Context().Done():
		ctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), 5*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	}
}
