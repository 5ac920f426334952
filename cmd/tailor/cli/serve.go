package cli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/registry"
	"github.com/tailor-dev/tailor/serve"
)

func init() { register(newServeCommand) }

type serveFlags struct {
	listen, config, profile, storage string
	upstreams                        []string
	tlsCert, tlsKey, htpasswd        string
	login                            bool
	upstreamTimeout, tagTTL          time.Duration
	gcInterval                       time.Duration
	logFormat, cacheSize             string
	ui                               bool
}

func newServeCommand() *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the tailoring registry: a mirror that serves each client the build that fits it",
		Long: `serve speaks the OCI distribution API. A manifest asked for by tag that is an
index of tailored builds is answered with an index tailored to the client's
profile; everything else passes through from the upstreams, streamed and
digest-checked. With no --upstream it is a registry of its own.

Pushes: without --htpasswd, from anyone while listening on loopback only.
With --htpasswd FILE (bcrypt, htpasswd -B), the server uses the bearer token
flow, as Docker Hub does: every request needs a token from its endpoint
/token (the challenge on /v2/ names it, so docker, podman, skopeo and
containerd fetch one by themselves). Anyone gets a pull token, users of
the file (docker login / --dest-creds) a pull+push token. Tokens last 5
minutes and are signed with a key kept in <storage>/token.key; delete it
to invalidate every token. With --login too, the token endpoint refuses
anonymous clients and a login whose user name is a profile gets a pull
token for that profile.`,
		Example: `  tailor serve                                   # a registry on 127.0.0.1:5000
  tailor serve --listen :5000 --profile host --upstream docker.io=https://registry-1.docker.io
  tailor serve --login --config /etc/tailor/serve.yaml    # docker login -u cpu=zen3 ...
  tailor serve --listen :5000 --htpasswd /etc/tailor/htpasswd  # pushes: docker login -u alice; pulls: anonymous`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:5000", "address to listen on")
	fl.StringVar(&f.config, "config", "", "config file (YAML); flags override it")
	fl.StringVar(&f.profile, "profile", "host", `default profile of clients: "host" (this machine), a spec string (cpu=zen3,gpu=8.0,driver=550.54,label.k=v), a JSON file as "tailor detect -o json" writes, inline JSON, or "none" (indexes untouched: a plain mirror)`)
	fl.StringArrayVar(&f.upstreams, "upstream", nil, "upstream registry NAME=URL (repeatable; the first is the default)")
	fl.StringVar(&f.storage, "storage", defaultStorage(), "directory of tailored indexes and the embedded registry")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate file")
	fl.StringVar(&f.tlsKey, "tls-key", "", "TLS key file")
	fl.StringVar(&f.htpasswd, "htpasswd", "", "htpasswd file (bcrypt): only its users may push (turns on the bearer token flow)")
	fl.BoolVar(&f.login, "login", false, "challenge clients for a login whose user name is their profile")
	fl.DurationVar(&f.upstreamTimeout, "upstream-timeout", 30*time.Second, "timeout to connect to an upstream and get its answer's headers")
	fl.StringVar(&f.cacheSize, "cache-size", "20G", "bound of the content cache of a proxying server (blobs and manifests by digest under --storage; least recently used first); 0: no cache")
	fl.DurationVar(&f.tagTTL, "tag-ttl", serve.DefaultTagTTL, "how long a tag read from an upstream is reused before it is read again (0: every request)")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fl.DurationVar(&f.gcInterval, "gc-interval", registry.DefaultGCInterval, "how often the embedded registry removes blobs no manifest references (deleted images' layers; each kept an hour after its last push); 0: never")
	fl.BoolVar(&f.ui, "ui", true, "serve the web view at /ui/ (public, as /metrics): repositories, variant matrices, answers per profile")
	return cmd
}

func defaultStorage() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "tailor", "serve")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "tailor", "serve")
	}
	return "tailor-serve"
}

// mergeConfig fills the flags not given on the command line from the config file.
func mergeConfig(cmd *cobra.Command, f *serveFlags) (map[string]string, error) {
	if f.config == "" {
		return nil, nil
	}
	c, err := serve.LoadConfig(f.config)
	if err != nil {
		return nil, usageError(err)
	}
	set := func(name string, dst *string, v string) {
		if v != "" && !cmd.Flags().Changed(name) {
			*dst = v
		}
	}
	set("listen", &f.listen, c.Listen)
	set("storage", &f.storage, c.Storage)
	set("profile", &f.profile, c.Profile)
	set("htpasswd", &f.htpasswd, c.Htpasswd)
	set("tls-cert", &f.tlsCert, c.TLS.Cert)
	set("tls-key", &f.tlsKey, c.TLS.Key)
	if c.Login && !cmd.Flags().Changed("login") {
		f.login = true
	}
	if c.UI != nil && !cmd.Flags().Changed("ui") {
		f.ui = *c.UI
	}
	if c.UpstreamTimeout != "" && !cmd.Flags().Changed("upstream-timeout") {
		d, err := time.ParseDuration(c.UpstreamTimeout)
		if err != nil {
			return nil, usageError(fmt.Errorf("config upstreamTimeout: %w", err))
		}
		f.upstreamTimeout = d
	}
	set("cache-size", &f.cacheSize, c.CacheSize)
	if c.TagTTL != "" && !cmd.Flags().Changed("tag-ttl") {
		d, err := time.ParseDuration(c.TagTTL)
		if err != nil {
			return nil, usageError(fmt.Errorf("config tagTTL: %w", err))
		}
		f.tagTTL = d
	}
	if !cmd.Flags().Changed("upstream") {
		for _, u := range c.Upstreams {
			f.upstreams = append(f.upstreams, u.Name+"="+u.URL)
		}
	}
	return c.Profiles, nil
}

func runServe(cmd *cobra.Command, f *serveFlags) error {
	ctx := cmd.Context()
	named, err := mergeConfig(cmd, f)
	if err != nil {
		return err
	}
	logger, err := serveLogger(cmd, f.logFormat)
	if err != nil {
		return err
	}
	// Input first, before anything is created or listened on.
	if err := checkListen(f.listen); err != nil {
		return usageError(err)
	}
	if err := checkTLSFiles(f.tlsCert, f.tlsKey); err != nil {
		return usageError(err)
	}
	opts := []serve.Option{serve.WithStorage(f.storage), serve.WithLogger(logger), serve.WithLogin(f.login),
		serve.WithUpstreamTimeout(f.upstreamTimeout), serve.WithTLS(f.tlsCert, f.tlsKey), serve.WithTagTTL(f.tagTTL), serve.WithUI(f.ui)}
	size, err := serve.ParseSize(f.cacheSize)
	if err != nil {
		return usageError(fmt.Errorf("--cache-size: %w", err))
	}
	opts = append(opts, serve.WithCacheSize(size), serve.WithGCInterval(f.gcInterval))
	var upstreams []string // for the log, without credentials
	for _, s := range f.upstreams {
		u, err := serve.ParseUpstream(s)
		if err != nil {
			return usageError(err)
		}
		opts = append(opts, serve.WithUpstreams(u))
		upstreams = append(upstreams, u.String())
	}
	switch f.profile {
	case "":
	case serve.ProfileNone:
		opts = append(opts, serve.WithDefaultNone())
	default:
		p, err := loadProfile(ctx, f.profile)
		if err != nil {
			return err
		}
		opts = append(opts, serve.WithProfile(p))
	}
	profiles := map[string]*profile.Profile{}
	for n, arg := range named {
		p, err := loadProfile(ctx, arg)
		if err != nil {
			return fmt.Errorf("config profile %q: %w", n, err)
		}
		profiles[n] = p
	}
	opts = append(opts, serve.WithProfiles(profiles))
	if f.htpasswd != "" {
		opts = append(opts, serve.WithHtpasswd(f.htpasswd))
	}
	s, err := serve.New(opts...)
	if err != nil {
		if errors.Is(err, serve.ErrBadInput) {
			return usageError(err)
		}
		return fmt.Errorf("starting the server (storage %s): %w", f.storage, err) // a failure, exit 1
	}
	defer s.Close()
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	auth := "none (pushes from loopback only)"
	switch {
	case f.htpasswd != "" && f.login:
		auth = "token flow: pulls by profile login, pushes by users of " + f.htpasswd
	case f.htpasswd != "":
		auth = "token flow: anonymous pulls, pushes by users of " + f.htpasswd
	case f.login:
		auth = "Basic login: user name = profile"
	}
	view := "off"
	if f.ui {
		view = viewURL(ln.Addr(), f.tlsCert != "")
	}
	logger.Info("tailor serve listening", "addr", ln.Addr().String(), "ui", view, "storage", f.storage, "upstreams", upstreams, "profile", f.profile, "auth", auth, "cache", cacheNote(len(upstreams), f.cacheSize))
	for _, h := range startupHints(ln.Addr(), f, len(upstreams) > 0) {
		logger.Info(h)
	}
	return s.Run(ctx, ln)
}

// cacheNote says in the startup log what the content cache is.
func cacheNote(upstreams int, size string) string {
	switch {
	case upstreams == 0:
		return "none (embedded registry)"
	case size == "0":
		return "off"
	}
	return "up to " + size
}

func serveLogger(cmd *cobra.Command, format string) (*slog.Logger, error) {
	level := slog.LevelInfo
	if v, _ := cmd.Flags().GetBool("verbose"); v {
		level = slog.LevelDebug
	}
	ho := &slog.HandlerOptions{Level: level}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), ho)), nil
	}
	return nil, usageError(fmt.Errorf("unknown log format %q (want text or json)", format))
}

// viewURL is the web view's address on a listener, for the startup line
// (an unspecified address is shown as 127.0.0.1).
// checkTLSFiles loads the TLS certificate and key, when given, so that a
// missing or bad file is reported before the server says it listens.
func checkTLSFiles(cert, key string) error {
	if cert == "" && key == "" {
		return nil
	}
	if cert == "" || key == "" {
		return fmt.Errorf("--tls-cert and --tls-key go together (got only one)")
	}
	if _, err := tls.LoadX509KeyPair(cert, key); err != nil {
		return fmt.Errorf("--tls-cert %s --tls-key %s: %w", cert, key, err)
	}
	return nil
}

// checkListen rejects a --listen that is no host:port before anything
// starts: bad input, not a failure to listen.
func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: want host:port or :port (127.0.0.1:5000, :5000): %w", addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("--listen %q: port %q is not a number from 0 to 65535", addr, port)
	}
	return nil
}

// startupHints say, after the listening line, how to use the server: push
// to its registry, or point a client at it as a mirror.
func startupHints(a net.Addr, f *serveFlags, proxy bool) []string {
	base := strings.TrimSuffix(viewURL(a, f.tlsCert != ""), "/ui/")
	host := strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://")
	var hints []string
	if proxy {
		hints = append(hints, "mirror through it: tailor mirror-config --for containerd --server "+base+" REGISTRY (or --for docker, podman, skopeo)")
	} else {
		who := "anyone on this machine (loopback)"
		if f.htpasswd != "" {
			who = "users of " + f.htpasswd + " (docker login " + host + ")"
		}
		hints = append(hints, "push to it: tailor build --dest "+host+"/APP:TAG, or docker/skopeo/crane push "+host+"/APP:TAG; who may push: "+who)
	}
	hints = append(hints, "each client gets the build for --profile ("+f.profile+"); another profile per client: the header Tailor-Profile, the path prefix /v2/_p/PROFILE/, or with --login a docker login as it (docker login -u cpu=zen3 "+host+")")
	if !f.login {
		hints = append(hints, "without --login, docker login and podman login to this server say they succeeded and change nothing (they send credentials only when challenged): start it with --login for profiles by login")
	}
	return hints
}

func viewURL(a net.Addr, tls bool) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return scheme + "://" + a.String() + "/ui/"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/ui/"
}
