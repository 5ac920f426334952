package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
)

func TestFillSharesOneFetch(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, "")
	data := strings.Repeat("shared blob ", 1<<16)
	d := digest.FromString(data)
	var fetches atomic.Int32
	release := make(chan struct{})
	fetch := func(ctx context.Context, w io.Writer) error {
		fetches.Add(1)
		<-release
		_, err := io.WriteString(w, data)
		return err
	}
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := s.Fill(ctx, d, int64(len(data)), fetch)
			if err != nil {
				errs[i] = err
				return
			}
			defer b.Close()
			got, err := io.ReadAll(b)
			if err == nil && string(got) != data {
				err = fmt.Errorf("read %d bytes, not the blob", len(got))
			}
			errs[i] = err
		}()
	}
	time.Sleep(50 * time.Millisecond) // let them all wait on the one fetch
	close(release)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Fill %d: %v", i, err)
		}
	}
	if f := fetches.Load(); f != 1 {
		t.Errorf("%d fetches for %d concurrent fills, want 1", f, n)
	}
	// Filled: a later Fill does not fetch.
	b, err := s.Fill(ctx, d, -1, fetch)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if f := fetches.Load(); f != 1 {
		t.Errorf("a Fill of a stored blob fetched (%d fetches)", f)
	}
}

func TestFillErrors(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, "")
	d := digest.FromString("right")
	boom := errors.New("upstream broke")
	if _, err := s.Fill(ctx, d, -1, func(context.Context, io.Writer) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Fill with a failing fetch = %v, want %v", err, boom)
	}
	if _, err := s.Fill(ctx, d, -1, func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, "wrong")
		return err
	}); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("Fill with wrong bytes = %v, want ErrDigestMismatch", err)
	}
	if _, err := s.Fill(ctx, d, 99, func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, "right")
		return err
	}); !errors.Is(err, ErrSizeMismatch) {
		t.Errorf("Fill with a wrong size = %v, want ErrSizeMismatch", err)
	}
	if n, _ := s.Usage(); n != 0 || len(tmpFiles(t, s)) != 0 {
		t.Errorf("failed fills left %d blobs, temporary files %v", n, tmpFiles(t, s))
	}
	// The failures are not remembered: the next Fill fetches again.
	b, err := s.Fill(ctx, d, 5, func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, "right")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
}

// TestFillWaiterLeaves: one caller giving up does not cancel the fetch the
// others wait for; when all have gone the fetch is cancelled.
func TestFillWaiterLeaves(t *testing.T) {
	s := newStore(t, "")
	data := "patient"
	d := digest.FromString(data)
	started, release := make(chan struct{}), make(chan struct{})
	fetch := func(ctx context.Context, w io.Writer) error {
		close(started)
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		_, err := io.WriteString(w, data)
		return err
	}
	impatient, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 2)
	go func() { _, err := s.Fill(impatient, d, -1, fetch); errc <- err }()
	<-started
	go func() {
		b, err := s.Fill(context.Background(), d, -1, fetch)
		if err == nil {
			b.Close()
		}
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Fill = %v", err)
	}
	close(release)
	if err := <-errc; err != nil {
		t.Errorf("the patient Fill failed when the other left: %v", err)
	}

	// Every waiter gone: the fetch sees its context cancelled.
	d2 := digest.FromString("abandoned")
	gotCancel := make(chan error, 1)
	started2 := make(chan struct{})
	ctx, cancel2 := context.WithCancel(context.Background())
	go func() {
		s.Fill(ctx, d2, -1, func(fctx context.Context, w io.Writer) error {
			close(started2)
			<-fctx.Done()
			gotCancel <- fctx.Err()
			return fctx.Err()
		})
	}()
	<-started2
	cancel2()
	select {
	case err := <-gotCancel:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("fetch context ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the fetch was not cancelled when every waiter had gone")
	}
}

// TestConcurrentUse: writers, readers, deletes and fills of overlapping
// digests under a tight bound; every read returns whole, right bytes
// (run with -race).
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, "", WithMaxSize(64<<10))
	blobs := make([]string, 32)
	for i := range blobs {
		blobs[i] = strings.Repeat(fmt.Sprintf("%02d", i), 2<<10+i)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 200 {
				data := blobs[r.IntN(len(blobs))]
				d := digest.FromString(data)
				var b *Blob
				var err error
				switch r.IntN(4) {
				case 0:
					_, err = s.Put(ctx, d, int64(len(data)), strings.NewReader(data))
				case 1:
					err = s.Delete(ctx, d)
				case 2:
					b, err = s.Open(ctx, d)
				default:
					b, err = s.Fill(ctx, d, int64(len(data)), func(_ context.Context, w io.Writer) error {
						_, err := io.WriteString(w, data)
						return err
					})
				}
				if err != nil && !errors.Is(err, ErrNotFound) {
					t.Errorf("%s: %v", d, err)
				}
				if b != nil {
					got, err := io.ReadAll(b)
					if err != nil || string(got) != data {
						t.Errorf("read %s: %d bytes, %v", d, len(got), err)
					}
					b.Close()
				}
			}
		}()
	}
	wg.Wait()
	if _, sz := s.Usage(); sz > 64<<10 {
		t.Errorf("Usage %d bytes over the bound after every reader closed", sz)
	}
	if left := tmpFiles(t, s); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// The index agrees with the disk.
	s.Walk(ctx, func(in Info) error {
		b, err := s.Open(ctx, in.Digest)
		if err != nil {
			t.Errorf("Walk lists %s, Open: %v", in.Digest, err)
			return nil
		}
		defer b.Close()
		if b.Size() != in.Size {
			t.Errorf("%s: size %d on disk, %d in the index", in.Digest, b.Size(), in.Size)
		}
		return nil
	})
}
