package engines

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// GateEnv turns the tests on; PortEnv moves their ports (default 16100:
// the plain server, +1 the --login server, +2 the mirror).
const (
	GateEnv = "TAILOR_ENGINE_TESTS"
	PortEnv = "TAILOR_ENGINES_PORT"
)

var (
	// on is false when GateEnv is not set: every test skips.
	on bool
	// work is the private directory of everything started here.
	work string
	// tailor is the binary under test.
	tailor string
	// plain, login and mirror are the servers' host:port: plain has no
	// upstream (profile cpu=x86_64_v4), login the same with --login, mirror
	// has plain as upstreams docker.io and reg.local:5443 (profile
	// cpu=haswell).
	plain, login, mirror string
	// dockerEnv and podmanEnv are the environments of the engines' clients.
	dockerEnv, podmanEnv []string
	docker               string // /usr/bin/docker, the 20.10 client
)

func TestMain(m *testing.M) {
	if os.Getenv(GateEnv) != "1" {
		fmt.Fprintf(os.Stderr, "engines: %s is not 1: tests that start dockerd and podman are skipped (.ci/steps/18-engines.sh runs them)\n", GateEnv)
		os.Exit(m.Run())
	}
	on = true
	var stops []func()
	code, err := setup(&stops)
	if err == nil {
		code = m.Run()
	} else {
		fmt.Fprintln(os.Stderr, "engines setup:", err)
		code = 1
	}
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	if code == 0 {
		os.RemoveAll(work)
	} else {
		fmt.Fprintln(os.Stderr, "engines: logs kept in", work)
	}
	os.Exit(code)
}

// need skips t where the engine tests are off.
func need(t *testing.T) {
	t.Helper()
	if !on {
		t.Skipf("%s is not 1", GateEnv)
	}
}

func setup(stops *[]func()) (int, error) {
	base := 16100
	if v := os.Getenv(PortEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 1, fmt.Errorf("%s=%q: want a port number", PortEnv, v)
		}
		base = n
	}
	for _, tool := range []string{"/usr/bin/docker", "dockerd", "containerd", "podman", "gcc", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return 1, fmt.Errorf("%s is needed (apt-get install docker.io podman conmon containerd runc gcc): %w", tool, err)
		}
	}
	docker = "/usr/bin/docker"
	var err error
	// Short: unix socket paths are limited to 108 bytes.
	if work, err = os.MkdirTemp("/tmp", "tailor-eng-"); err != nil {
		return 1, err
	}
	tailor = filepath.Join(work, "tailor")
	if out, err := exec.Command("go", "build", "-o", tailor, "github.com/tailor-dev/tailor/cmd/tailor").CombinedOutput(); err != nil {
		return 1, fmt.Errorf("go build: %v\n%s", err, out)
	}
	plain = "127.0.0.1:" + strconv.Itoa(base)
	login = "127.0.0.1:" + strconv.Itoa(base+1)
	mirror = "127.0.0.1:" + strconv.Itoa(base+2)
	for _, s := range []struct {
		addr string
		args []string
	}{
		{plain, []string{"--profile", "cpu=x86_64_v4"}},
		{login, []string{"--profile", "cpu=x86_64_v4", "--login"}},
		{mirror, []string{"--profile", "cpu=haswell", "--upstream", "docker.io=http://" + plain, "--upstream", "reg.local:5443=http://" + plain}},
	} {
		args := append([]string{"serve", "--listen", s.addr, "--storage", filepath.Join(work, "serve-"+s.addr[len("127.0.0.1:"):])}, s.args...)
		stop, err := start(filepath.Join(work, "serve-"+s.addr[len("127.0.0.1:"):]+".log"), nil, tailor, args...)
		if err != nil {
			return 1, err
		}
		*stops = append(*stops, stop)
		if err := waitTCP(s.addr); err != nil {
			return 1, err
		}
	}
	// The probe, pushed to the plain server twice (probe:1 and the
	// library/probe:1 Docker Hub's official images live at) and to the
	// login server.
	for _, dest := range []string{plain + "/probe:1", plain + "/library/probe:1", login + "/probe:1"} {
		out, err := exec.Command(tailor, "build", "-f", "testdata/probe/tailor.yaml", "--dest", dest).CombinedOutput()
		if err != nil {
			return 1, fmt.Errorf("tailor build --dest %s: %v\n%s", dest, err, out)
		}
	}
	if err := startDocker(stops); err != nil {
		return 1, err
	}
	if err := setupPodman(); err != nil {
		return 1, err
	}
	return 0, nil
}

// start starts a daemon with its output in logFile; stop sends SIGTERM to
// it (by its PID) and waits, SIGKILL after 20 s.
func start(logFile string, env []string, name string, args ...string) (func(), error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		f.Close()
	}, nil
}

func waitTCP(addr string) error {
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %s after 10 s", addr)
}

// startDocker starts a private containerd and dockerd 20.10 on it, with
// the daemon.json lines `tailor mirror-config --for docker` prints for the
// mirror server.
func startDocker(stops *[]func()) error {
	ctd := filepath.Join(work, "containerd")
	sock := filepath.Join(ctd, "containerd.sock")
	cfg := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
[ttrpc]
  address = %q
`, filepath.Join(ctd, "root"), filepath.Join(ctd, "state"), sock, sock+".ttrpc")
	if err := os.MkdirAll(ctd, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(ctd, "config.toml"), []byte(cfg), 0o600); err != nil {
		return err
	}
	stop, err := start(filepath.Join(work, "containerd.log"), nil, "containerd", "--config", filepath.Join(ctd, "config.toml"))
	if err != nil {
		return err
	}
	*stops = append(*stops, stop)
	if err := waitFile(sock); err != nil {
		return err
	}
	out, err := exec.Command(tailor, "mirror-config", "--for", "docker", "--server", "http://"+mirror, "docker.io").Output()
	if err != nil {
		return fmt.Errorf("tailor mirror-config --for docker: %w", err)
	}
	daemon := map[string]any{}
	if err := json.Unmarshal(stripComments(out), &daemon); err != nil {
		return fmt.Errorf("tailor mirror-config --for docker printed no JSON: %w\n%s", err, out)
	}
	dd := filepath.Join(work, "docker")
	dsock := filepath.Join(dd, "docker.sock")
	for k, v := range map[string]any{
		"data-root": filepath.Join(dd, "data"), "exec-root": filepath.Join(dd, "exec"), "pidfile": filepath.Join(dd, "docker.pid"),
		"hosts": []string{"unix://" + dsock}, "containerd": sock, "storage-driver": "overlay2",
		"bridge": "none", "iptables": false, "ip-forward": false, "ip-masq": false,
		"exec-opts": []string{"native.cgroupdriver=cgroupfs"},
	} {
		daemon[k] = v
	}
	b, _ := json.MarshalIndent(daemon, "", "  ")
	if err := os.MkdirAll(dd, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dd, "daemon.json"), b, 0o600); err != nil {
		return err
	}
	stop, err = start(filepath.Join(work, "dockerd.log"), nil, "dockerd", "--config-file", filepath.Join(dd, "daemon.json"))
	if err != nil {
		return err
	}
	*stops = append(*stops, stop)
	dockerEnv = []string{"DOCKER_HOST=unix://" + dsock, "DOCKER_CONFIG=" + filepath.Join(dd, "client")}
	for i := 0; i < 100; i++ {
		if err := exec.Command(docker, "-H", "unix://"+dsock, "version").Run(); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("dockerd did not answer in 20 s (see %s/dockerd.log)", work)
}

func waitFile(path string) error {
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not appear in 10 s", path)
}

// stripComments drops the # lines mirror-config starts its output with.
func stripComments(b []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

// setupPodman writes podman's private configuration (see
// ../../../shared/engines-here.md for why each line is there).
func setupPodman() error {
	pd := filepath.Join(work, "podman")
	for _, d := range []string{"tmp", "net", "graph", "run"} {
		if err := os.MkdirAll(filepath.Join(pd, d), 0o700); err != nil {
			return err
		}
	}
	files := map[string]string{
		"containers.conf": fmt.Sprintf(`[containers]
netns = "none"
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
tmp_dir = %q
lock_type = "file"
[network]
network_config_dir = %q
`, filepath.Join(pd, "tmp"), filepath.Join(pd, "net")),
		"storage.conf":    fmt.Sprintf("[storage]\ndriver = \"overlay\"\ngraphroot = %q\nrunroot = %q\n", filepath.Join(pd, "graph"), filepath.Join(pd, "run")),
		"registries.conf": "unqualified-search-registries = []\n",
		"auth.json":       "{}\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(pd, name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	podmanEnv = []string{
		"CONTAINERS_CONF=" + filepath.Join(pd, "containers.conf"),
		"CONTAINERS_STORAGE_CONF=" + filepath.Join(pd, "storage.conf"),
		"CONTAINERS_REGISTRIES_CONF=" + filepath.Join(pd, "registries.conf"),
		"REGISTRY_AUTH_FILE=" + filepath.Join(pd, "auth.json"),
	}
	return nil
}

// run runs a command with env added and returns its combined output,
// failing t when it fails.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, err := try(env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// try runs a command (bounded by 3 minutes) and returns its output and error.
func try(env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// target is the target the probe printed in out ("" when it printed none).
func target(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "target="); ok {
			return v
		}
	}
	return ""
}
