package serve

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/opencontainers/go-digest"
)

func TestVerifyingReader(t *testing.T) {
	data := bytes.Repeat([]byte("tailor"), 100000)
	good := digest.FromBytes(data)
	bad := bytes.Clone(data)
	bad[len(bad)-1] ^= 1
	for _, c := range []struct {
		name    string
		body    []byte
		size    int64
		wantErr error
	}{
		{"good sized", data, int64(len(data)), nil},
		{"good unsized", data, -1, nil},
		{"corrupt sized", bad, int64(len(bad)), errDigestMismatch},
		{"corrupt unsized", bad, -1, errDigestMismatch},
		{"short", data[:1000], int64(len(data)), io.ErrUnexpectedEOF},
		{"long", append(bytes.Clone(data), 'x'), int64(len(data)), errDigestMismatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			v, err := newVerifyingReader(iotest.HalfReader(bytes.NewReader(c.body)), good, c.size)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			_, err = copyStream(&out, v)
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("copy error %v, want %v", err, c.wantErr)
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
