// Command attackbench measures the bounds of `tailor serve` under the
// attacks of issue 17, each against a fresh server process: RSS growth
// for 100 requests with 200 KB methods (with --htpasswd); RSS and tag
// state for 150 upstream tags of a 2 MiB index (--cache-size 100M); and
// the peak disk of the content cache under 30 concurrent fills of 8 MiB
// blobs (--cache-size 40M). Figures are printed, not asserted.
//
//	go build -o /tmp/tailor ./cmd/tailor
//	go run ./bench/serve/cmd/attackbench -tailor /tmp/tailor -port 15100
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"
	"golang.org/x/crypto/bcrypt"
)

func main() {
	tailor := flag.String("tailor", "", "tailor binary")
	port := flag.Int("port", 15100, "first port to use (three are used)")
	flag.Parse()
	if *tailor == "" {
		log.Fatal("-tailor is required")
	}
	methods(*tailor, *port)
	tags(*tailor, *port+1)
	fills(*tailor, *port+2)
}

// server is a running tailor serve.
type server struct {
	cmd     *exec.Cmd
	addr    string
	storage string
}

func start(tailor string, port int, args ...string) *server {
	storage, err := os.MkdirTemp("", "attackbench-")
	if err != nil {
		log.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(tailor, append([]string{"serve", "--listen", addr, "--storage", storage, "--ui=false"}, args...)...)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	for range 200 {
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			resp.Body.Close()
			return &server{cmd: cmd, addr: addr, storage: storage}
		}
		time.Sleep(50 * time.Millisecond)
	}
	log.Fatalf("tailor serve on %s did not start", addr)
	return nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	_ = os.RemoveAll(s.storage)
}

// rss is the process's resident set and its peak, in bytes.
func (s *server) rss() (now, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		log.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			now = v << 10
		case "VmHWM:":
			peak = v << 10
		}
	}
	return now, peak
}

func dirBytes(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
		return nil
	})
	return n
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// methods: 100 requests with 200 KB methods against --htpasswd.
func methods(tailor string, port int) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	pw := filepath.Join(os.TempDir(), fmt.Sprintf("attackbench-htpasswd-%d", port))
	if err := os.WriteFile(pw, []byte("alice:"+string(hash)+"\n"), 0o600); err != nil {
		log.Fatal(err)
	}
	defer os.Remove(pw)
	s := start(tailor, port, "--htpasswd", pw, "--profile", "cpu=haswell")
	defer s.stop()
	before, _ := s.rss()
	for i := range 100 {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(c, "%s%d /v2/app/manifests/v1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", strings.Repeat("M", 200<<10), i)
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		c.Close()
	}
	after, peak := s.rss()
	resp, err := http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("methods: 100 requests with 200 KB methods (--htpasswd): RSS %s -> %s (growth %s, peak %s), /metrics %d bytes\n",
		mib(before), mib(after), mib(after-before), mib(peak), len(body))
}

// upstream serves, for any tag of app, an index of about 2 MiB (the same
// one), and blobs by digest slowly.
func upstream(port int, blobs map[string][]byte) (*http.Server, string) {
	entries := []map[string]any{{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest.FromString("generic").String(), "size": 100,
		"platform": map[string]string{"os": "linux", "architecture": "amd64"}}}
	for i := range 500 {
		entries = append(entries, map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest.FromString(fmt.Sprint(i)).String(), "size": 100,
			"platform":    map[string]string{"os": "linux", "architecture": "amd64"},
			"annotations": map[string]string{"dev.tailor.cpu.target": "haswell", "org.example.pad": strings.Repeat("p", 4000)}})
	}
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries})
	addr := "127.0.0.1:" + strconv.Itoa(port+300)
	srv := &http.Server{Addr: addr, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, name, ok := strings.Cut(r.URL.Path, "/blobs/"); ok {
			b, found := blobs[name]
			if !found {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			for off := 0; off < len(b); off += 256 << 10 {
				_, _ = w.Write(b[off : off+256<<10])
				w.(http.Flusher).Flush()
				time.Sleep(10 * time.Millisecond)
			}
			return
		}
		if strings.Contains(r.URL.Path, "/manifests/") {
			w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
			w.Header().Set("Docker-Content-Digest", digest.FromBytes(index).String())
			_, _ = w.Write(index)
			return
		}
		w.WriteHeader(http.StatusOK)
	})}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	return srv, "http://" + addr
}

// tags: 150 upstream tags of a 2 MiB index, --cache-size 100M.
func tags(tailor string, port int) {
	up, url := upstream(port, nil)
	defer up.Close()
	s := start(tailor, port, "--upstream", "up="+url, "--cache-size", "100M", "--profile", "cpu=haswell")
	defer s.stop()
	before, _ := s.rss()
	for i := range 150 {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/v2/app/manifests/t%d", s.addr, i), nil)
		req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			log.Fatalf("tag %d: %d", i, resp.StatusCode)
		}
	}
	after, peak := s.rss()
	fmt.Printf("tags: 150 upstream tags of a 2 MiB index (--cache-size 100M): RSS %s -> %s (peak %s), tag records %s, content cache %s on disk\n",
		mib(before), mib(after), mib(peak), mib(dirBytes(filepath.Join(s.storage, "cache", "tags"))), mib(dirBytes(filepath.Join(s.storage, "cache", "content"))))
}

// fills: 30 concurrent fills of 8 MiB blobs, --cache-size 40M.
func fills(tailor string, port int) {
	blobs := map[string][]byte{}
	var names []string
	for i := range 30 {
		b := []byte(strings.Repeat(fmt.Sprintf("%08d", i), (8<<20)/8))
		d := digest.FromBytes(b).String()
		blobs[d] = b
		names = append(names, d)
	}
	up, url := upstream(port, blobs)
	defer up.Close()
	s := start(tailor, port, "--upstream", "up="+url, "--cache-size", "40M", "--profile", "cpu=haswell")
	defer s.stop()
	var peak atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				if b := dirBytes(filepath.Join(s.storage, "cache")); b > peak.Load() {
					peak.Store(b)
				}
			}
		}
	}()
	var wg sync.WaitGroup
	var bad atomic.Int64
	for _, d := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get("http://" + s.addr + "/v2/app/blobs/" + d)
			if err != nil {
				bad.Add(1)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if digest.FromBytes(body).String() != d {
				bad.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-done
	fmt.Printf("fills: 30 concurrent fills of 8 MiB blobs (--cache-size 40M): peak cache disk %s (%.2fx the bound), %d bad answers\n",
		mib(peak.Load()), float64(peak.Load())/(40<<20), bad.Load())
}
