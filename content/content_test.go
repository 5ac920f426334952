package content

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

func newStore(t *testing.T, root string, opts ...Option) *Store {
	t.Helper()
	if root == "" {
		root = t.TempDir()
	}
	s, err := New(context.Background(), root, opts...)
	if err != nil {
		t.Fatalf("New(%s): %v", root, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func put(t *testing.T, s *Store, data string) digest.Digest {
	t.Helper()
	d := digest.FromString(data)
	if _, err := s.Put(context.Background(), d, int64(len(data)), strings.NewReader(data)); err != nil {
		t.Fatalf("Put(%s): %v", d, err)
	}
	return d
}

func read(t *testing.T, s *Store, d digest.Digest) string {
	t.Helper()
	b, err := s.Open(context.Background(), d)
	if err != nil {
		t.Fatalf("Open(%s): %v", d, err)
	}
	defer b.Close()
	data, err := io.ReadAll(b)
	if err != nil {
		t.Fatalf("read %s: %v", d, err)
	}
	return string(data)
}

// tmpFiles lists what is left in the store's temporary directory.
func tmpFiles(t *testing.T, s *Store) []string {
	t.Helper()
	des, err := os.ReadDir(s.tmpDir())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestParseDigest(t *testing.T) {
	h256 := strings.Repeat("ab", 32)
	h512 := strings.Repeat("cd", 64)
	for in, ok := range map[string]bool{
		"sha256:" + h256:                       true,
		"sha512:" + h512:                       true,
		"sha256:" + strings.ToUpper(h256):      false,
		"sha256:" + h256[:63]:                  false,
		"sha256:" + h256 + "0":                 false,
		"sha512:" + h256:                       false,
		"sha384:" + h512[:96]:                  false,
		"md5:" + h256[:32]:                     false,
		h256:                                   false,
		"":                                     false,
		"sha256:":                              false,
		"sha256:../../" + h256[6:]:             false,
		"sha256:" + h256[:62] + "/x":           false,
		"sha256:" + h256 + "\x00":              false,
		"sha256:" + strings.Repeat("g", 64):    false,
		" sha256:" + h256:                      false,
		"sha256:" + strings.Repeat("a", 1<<16): false,
	} {
		d, err := ParseDigest(in)
		if (err == nil) != ok {
			t.Errorf("ParseDigest(%.90q) = %v, %v; want ok=%v", in, d, err, ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("ParseDigest(%.90q): %v is not ErrInvalidDigest", in, err)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("ParseDigest: error of %d bytes for a %d-byte input", len(err.Error()), len(in))
		}
	}
}

func TestWriterCommit(t *testing.T) {
	ctx := context.Background()
	data := "hello, content"
	good := digest.FromString(data)
	for _, tc := range []struct {
		name    string
		want    digest.Digest
		size    int64
		wantErr error
	}{
		{"sha256", good, int64(len(data)), nil},
		{"size unknown", good, -1, nil},
		{"sha512", digest.SHA512.FromString(data), int64(len(data)), nil},
		{"wrong digest", digest.FromString("other"), -1, ErrDigestMismatch},
		{"wrong sha512", digest.SHA512.FromString("other"), -1, ErrDigestMismatch},
		{"wrong size", good, int64(len(data)) + 1, ErrSizeMismatch},
		{"bad digest", "sha256:xyz", -1, ErrInvalidDigest},
		{"sha384", digest.SHA384.FromString(data), -1, ErrInvalidDigest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, "")
			w, err := s.NewWriter(ctx)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, data[:5])
			io.WriteString(w, data[5:])
			if w.Size() != int64(len(data)) || w.Digest() != good {
				t.Errorf("Size, Digest = %d, %s; want %d, %s", w.Size(), w.Digest(), len(data), good)
			}
			info, err := w.Commit(ctx, tc.want, tc.size)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Commit(%s, %d) = %v, want %v", tc.want, tc.size, err, tc.wantErr)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if left := tmpFiles(t, s); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
			if tc.wantErr != nil {
				if n, _ := s.Usage(); n != 0 {
					t.Errorf("a failed commit stored %d blobs", n)
				}
				return
			}
			if info.Digest != tc.want || info.Size != int64(len(data)) {
				t.Errorf("Commit = %+v", info)
			}
			if got := read(t, s, tc.want); got != data {
				t.Errorf("read back %q, want %q", got, data)
			}
			if st, err := s.Stat(ctx, tc.want); err != nil || st.Size != int64(len(data)) {
				t.Errorf("Stat = %+v, %v", st, err)
			}
		})
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, "")
	w, err := s.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(bytes.Repeat([]byte("x"), 1<<20))
	if len(tmpFiles(t, s)) != 1 {
		t.Fatalf("the writer's temporary file is not in tmp/")
	}
	w.Close()
	if left := tmpFiles(t, s); len(left) != 0 {
		t.Errorf("Close left %v", left)
	}
	if _, err := w.Write([]byte("y")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if _, err := w.Commit(ctx, digest.FromString(""), -1); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close = %v, want ErrClosed", err)
	}
}

func TestNotFoundAndDelete(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, "")
	missing := digest.FromString("missing")
	if _, err := s.Open(ctx, missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open(missing) = %v", err)
	}
	if _, err := s.Stat(ctx, missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat(missing) = %v", err)
	}
	if err := s.Delete(ctx, missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete(missing) = %v", err)
	}
	if _, err := s.Open(ctx, "sha256:../../etc/passwd"); !errors.Is(err, ErrInvalidDigest) {
		t.Errorf("Open(traversal) = %v", err)
	}
	d := put(t, s, "to delete")
	b, err := s.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := s.Delete(ctx, d); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Stat(ctx, d); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat after Delete = %v", err)
	}
	// The reader that had it open still reads it whole (Unix semantics).
	got, err := io.ReadAll(b)
	if err != nil || string(got) != "to delete" {
		t.Errorf("read of a deleted, open blob = %q, %v", got, err)
	}
	if n, sz := s.Usage(); n != 0 || sz != 0 {
		t.Errorf("Usage = %d, %d after Delete", n, sz)
	}
}

func TestRangeReads(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, "")
	data := "0123456789abcdef"
	d := put(t, s, data)
	b, err := s.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Size() != int64(len(data)) || b.Info().Digest != d {
		t.Errorf("Size, Info = %d, %+v", b.Size(), b.Info())
	}
	buf := make([]byte, 4)
	if _, err := b.ReadAt(buf, 10); err != nil || string(buf) != "abcd" {
		t.Errorf("ReadAt(10) = %q, %v", buf, err)
	}
	if _, err := b.Seek(-3, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(b)
	if string(rest) != "def" {
		t.Errorf("after Seek(-3, end) read %q", rest)
	}
}

func TestWalk(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, "")
	want := map[digest.Digest]int64{}
	for _, data := range []string{"a", "bb", "ccc"} {
		want[put(t, s, data)] = int64(len(data))
	}
	d512 := digest.SHA512.FromString("dddd")
	if _, err := s.Put(ctx, d512, 4, strings.NewReader("dddd")); err != nil {
		t.Fatal(err)
	}
	want[d512] = 4
	got := map[digest.Digest]int64{}
	var prev digest.Digest
	err := s.Walk(ctx, func(in Info) error {
		if in.Digest < prev {
			t.Errorf("Walk not in digest order: %s after %s", in.Digest, prev)
		}
		prev = in.Digest
		got[in.Digest] = in.Size
		return nil
	})
	if err != nil || len(got) != len(want) {
		t.Fatalf("Walk = %v, %v; want %v", got, err, want)
	}
	for d, n := range want {
		if got[d] != n {
			t.Errorf("Walk: %s size %d, want %d", d, got[d], n)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.Walk(ctx, func(Info) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("Walk stopping = %v after %d calls", err, calls)
	}
}

func TestPutExistingSkipsReading(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, "")
	d := put(t, s, "once")
	r := &countingReader{}
	if _, err := s.Put(ctx, d, 4, r); err != nil {
		t.Fatal(err)
	}
	if r.n != 0 {
		t.Errorf("Put of a stored blob read %d bytes", r.n)
	}
}

type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) { c.n += len(p); return len(p), nil }

// TestSecondStoreLeavesTemps: a second store on a root that another has
// open does not remove the first one's writes in progress.
func TestSecondStoreLeavesTemps(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s := newStore(t, root)
	w, err := s.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "in progress")
	s2 := newStore(t, root)
	if _, err := w.Commit(ctx, digest.FromString("in progress"), -1); err != nil {
		t.Fatalf("the first store's write failed after a second store opened: %v", err)
	}
	if got := read(t, s, digest.FromString("in progress")); got != "in progress" {
		t.Errorf("read back %q", got)
	}
	s2.Close()
	s.Close()
	// Once the first is closed, a store takes the lock and cleans up.
	os.WriteFile(filepath.Join(root, "tmp", "w-left"), []byte("x"), 0o644)
	s3 := newStore(t, root)
	if left := tmpFiles(t, s3); len(left) != 0 {
		t.Errorf("temporary files after reopening: %v", left)
	}
}

func TestLeftoversRemovedAtOpen(t *testing.T) {
	root := t.TempDir()
	s := newStore(t, root)
	d := put(t, s, "kept")
	w, _ := s.NewWriter(context.Background())
	w.Write([]byte("half a blob"))
	s.Close() // the writer is never closed: as after a crash
	os.WriteFile(filepath.Join(root, "tmp", ".tmp-old"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(root, "sha256", "not-a-digest"), []byte("x"), 0o644)
	s2 := newStore(t, root)
	if left := tmpFiles(t, s2); len(left) != 0 {
		t.Errorf("temporary files after reopening: %v", left)
	}
	if got := read(t, s2, d); got != "kept" {
		t.Errorf("blob after reopening = %q", got)
	}
	if n, _ := s2.Usage(); n != 1 {
		t.Errorf("Usage counts %d blobs, want 1 (a stray file is no blob)", n)
	}
}

// clock is a settable time for recency tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func chtimes(p string, at time.Time) error { return os.Chtimes(p, at, at) }
