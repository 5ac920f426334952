package serve

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"testing"
	"testing/iotest"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/internal/registrytest"
)

// bigBody is larger than pipelineMin and not a multiple of the buffer
// size, so blobs go through the pipeline and end on a partial chunk.
func bigBody(t testing.TB) []byte {
	t.Helper()
	b := make([]byte, 3*pipelineMin+12345)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPipelineVerifies(t *testing.T) {
	data := bigBody(t)
	good := digest.FromBytes(data)
	bad := bytes.Clone(data)
	bad[len(bad)-1] ^= 1
	early := bytes.Clone(data)
	early[10] ^= 1
	for _, c := range []struct {
		name    string
		body    []byte
		size    int64
		wantErr error
	}{
		{"good sized", data, int64(len(data)), nil},
		{"good unsized", data, -1, nil},
		{"corrupt last byte sized", bad, int64(len(bad)), errDigestMismatch},
		{"corrupt first chunk sized", early, int64(len(early)), errDigestMismatch},
		{"corrupt unsized", bad, -1, errDigestMismatch},
		{"short", data[:len(data)-1], int64(len(data)), io.ErrUnexpectedEOF},
		{"long", append(bytes.Clone(data), 'x'), int64(len(data)), errDigestMismatch},
	} {
		for rname, wrap := range map[string]func(io.Reader) io.Reader{
			"half":    iotest.HalfReader,
			"dataerr": iotest.DataErrReader,
			"plain":   func(r io.Reader) io.Reader { return r },
		} {
			t.Run(c.name+"/"+rname, func(t *testing.T) {
				v, err := newVerifyingReader(wrap(bytes.NewReader(c.body)), good, c.size)
				if err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				n, err := copyStream(&out, v)
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("copyStream error %v, want %v", err, c.wantErr)
				}
				if n != int64(out.Len()) {
					t.Errorf("copyStream = %d, wrote %d", n, out.Len())
				}
				if c.wantErr != nil && c.size >= 0 && int64(out.Len()) >= c.size {
					t.Errorf("%d bytes handed out of a bad %d-byte body: the client would see it complete", out.Len(), c.size)
				}
				if c.wantErr == nil && !bytes.Equal(out.Bytes(), data) {
					t.Errorf("good body changed")
				}
			})
		}
	}
}

// failWriter fails once it has taken limit bytes, as a client that hangs up.
type failWriter struct{ n, limit int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n+len(p) > f.limit {
		return 0, errors.New("client gone")
	}
	f.n += len(p)
	return len(p), nil
}

func TestPipelineWriterFailsStops(t *testing.T) {
	data := bigBody(t)
	before := runtime.NumGoroutine()
	for range 20 {
		v, _ := newVerifyingReader(bytes.NewReader(data), digest.FromBytes(data), int64(len(data)))
		if _, err := copyStream(&failWriter{limit: pipelineMin}, v); err == nil || err.Error() != "client gone" {
			t.Fatalf("copyStream error %v, want the writer's", err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines left behind by stopped pipelines (%d before)", g-before, before)
	}
}

// TestLargeBlobCutOff is TestFaults' corrupt and reset cases for a blob
// large enough to be streamed by the pipeline, passed through (no cache)
// and filling the cache: a bad blob is cut off short and never stored; a
// good one, once stored, is served from the cache whatever the upstream
// does next.
func TestLargeBlobCutOff(t *testing.T) {
	up := registrytest.New(t, "")
	data := bigBody(t)
	dg := pushRawBlob(t, up, "big/blob", data)
	target, _ := url.Parse("http://" + up)
	f := &faulty{next: httputil.NewSingleHostReverseProxy(target)}
	fs := httptest.NewServer(f)
	t.Cleanup(fs.Close)
	for _, c := range []struct {
		name  string
		size  int64
		modes []string
		whole []bool // whether mode i must give the whole, right blob
	}{
		{"pass-through", 0, []string{"", "corrupt", "reset"}, []bool{true, false, false}},
		{"cache", DefaultCacheSize, []string{"corrupt", "reset", "", "corrupt", "reset"}, []bool{false, false, true, true, true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, srv := newTestServer(t, WithUpstreams(Upstream{Name: "up", URL: fs.URL}), WithCacheSize(c.size))
			blobURL := "http://" + srv + "/v2/big/blob/blobs/" + dg.String()
			for i, mode := range c.modes {
				f.mode.Store(mode)
				resp, err := http.Get(blobURL)
				var body []byte
				var rerr error
				if err == nil {
					body, rerr = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				f.mode.Store("")
				whole := err == nil && rerr == nil && bytes.Equal(body, data)
				if whole != c.whole[i] {
					t.Errorf("step %d, upstream %q: got the whole blob %v (%d of %d bytes, %v %v), want %v",
						i, mode, whole, len(body), len(data), err, rerr, c.whole[i])
				}
				if !c.whole[i] && err == nil && rerr == nil && len(body) >= len(data) {
					t.Errorf("step %d: a %s blob was completed, want it cut off", i, mode)
				}
			}
		})
	}
}

// pushRawBlob uploads data monolithically and returns its digest.
func pushRawBlob(t testing.TB, host, repo string, data []byte) digest.Digest {
	t.Helper()
	dg := digest.FromBytes(data)
	if err := registrytest.PushBlob(context.Background(), host, repo, bytes.NewReader(data), int64(len(data)), dg.String()); err != nil {
		t.Fatal(err)
	}
	return dg
}
