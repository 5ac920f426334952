package content

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/tailor-dev/tailor/internal/durable/durabletest"
)

// TestCommittedBlobSurvivesCrash: a blob committed (Writer.Commit, Put)
// is whole after a crash that drops what was not synced; a writer not
// committed leaves nothing. Without the file's sync before the rename or
// the directory's after it, the crash loses the blob.
func TestCommittedBlobSurvivesCrash(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	c := durabletest.New()
	s, err := New(ctx, root, WithFS(c))
	if err != nil {
		t.Fatal(err)
	}
	streamed := bytes.Repeat([]byte("streamed blob "), 1000)
	w, err := s.NewWriter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(streamed)
	if _, err := w.Commit(ctx, digest.FromBytes(streamed), int64(len(streamed))); err != nil {
		t.Fatal(err)
	}
	put := []byte("put blob")
	if _, err := s.Put(ctx, digest.FromBytes(put), int64(len(put)), bytes.NewReader(put)); err != nil {
		t.Fatal(err)
	}
	half, _ := s.NewWriter(ctx)
	half.Write([]byte("never committed"))
	if err := c.Crash(); err != nil {
		t.Fatal(err)
	}
	half.Close()
	s.Close()

	s, err = New(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, want := range [][]byte{streamed, put} {
		d := digest.FromBytes(want)
		b, err := s.Open(ctx, d)
		if err != nil {
			t.Errorf("committed blob %s lost in the crash: %v", d, err)
			continue
		}
		got, _ := io.ReadAll(b)
		b.Close()
		if !bytes.Equal(got, want) {
			t.Errorf("committed blob %s after the crash: %d bytes %q..., want %d", d, len(got), trunc(got), len(want))
		}
	}
	n, _ := s.Usage()
	if n != 2 {
		t.Errorf("%d blobs after the crash, want 2", n)
	}
}

func trunc(b []byte) string {
	s := string(b)
	if len(s) > 20 {
		s = s[:20]
	}
	return strings.ToValidUTF8(s, "?")
}
