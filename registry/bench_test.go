package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// BenchmarkBlob pushes (POST, then PUT with the body) and pulls a 64 MiB
// blob against tailor's registry and against distribution, side by side,
// with the process's CPU time per operation beside the wall time:
//
//	go test -run '^$' -bench Blob -benchtime 5x ./registry/
func BenchmarkBlob(b *testing.B) {
	data := make([]byte, 64<<20)
	rand.Read(data)
	d := digest.FromBytes(data)
	dist := registrytest.New(b, "")
	_, tailor := newTest(b, "")
	for _, host := range []string{dist, tailor[len("http://"):]} {
		if err := registrytest.PushBlob(context.Background(), host, "bench/pull", bytes.NewReader(data), int64(len(data)), string(d)); err != nil {
			b.Fatal(err)
		}
	}
	for _, reg := range []struct{ name, host string }{{"registry", tailor[len("http://"):]}, {"distribution", dist}} {
		b.Run(reg.name+"/push", func(b *testing.B) {
			defer reportCPU(b)()
			b.SetBytes(int64(len(data)))
			blob := bytes.Clone(data)
			for i := 0; i < b.N; i++ {
				// A new blob each time (a stored one is not read again).
				b.StopTimer()
				blob[0], blob[1], blob[2] = byte(i), byte(i>>8), 0xff
				bd := digest.FromBytes(blob)
				b.StartTimer()
				if err := registrytest.PushBlob(context.Background(), reg.host, "bench/push", bytes.NewReader(blob), int64(len(blob)), string(bd)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(reg.name+"/pull", func(b *testing.B) {
			defer reportCPU(b)()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				resp, err := http.Get("http://" + reg.host + "/v2/bench/pull/blobs/" + string(d))
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || n != int64(len(data)) {
					b.Fatalf("pull: %d, %d bytes", resp.StatusCode, n)
				}
			}
		})
	}
}

// reportCPU reports the process's CPU time per operation (client and
// server together: the client's share is the same for both registries).
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64((cpuTime()-start).Milliseconds())/float64(b.N), "cpu-ms/op") }
}
