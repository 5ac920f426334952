package content

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
)

// flight is one fill in progress, shared by every caller of Fill for its
// digest.
type flight struct {
	done    chan struct{}
	err     error
	waiters int
	over    bool   // the fetch is over (done is about to close)
	pinned  *entry // the filled blob, pinned until every waiter opened it
	cancel  context.CancelFunc
}

// Fill returns the blob d open, fetching it first when the store lacks it:
// fetch writes the blob's bytes to w (size < 0: unknown), and they are
// committed as d when digest and size match. Concurrent Fills of one
// digest share one fetch; the others wait for it and then read the blob.
// The fetch runs on a context of its own, cancelled when every caller
// waiting for it has gone, so one client that leaves does not fail the
// others.
func (s *Store) Fill(ctx context.Context, d digest.Digest, size int64, fetch func(ctx context.Context, w io.Writer) error) (*Blob, error) {
	b, err := s.Open(ctx, d)
	if !errors.Is(err, ErrNotFound) {
		return b, err
	}
	if max := s.o.maxSize; max > 0 && size > max {
		return nil, fmt.Errorf("content: %s: %w (%d bytes)", d, ErrTooLarge, max)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	f := s.flights[d]
	if f == nil {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{done: make(chan struct{}), cancel: cancel}
		s.flights[d] = f
		go s.runFill(fctx, f, d, size, fetch)
	}
	f.waiters++
	s.mu.Unlock()
	defer s.leave(f)
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if f.err != nil {
		return nil, f.err
	}
	return s.Open(ctx, d)
}

// runFill fetches and commits d, then wakes the waiters.
func (s *Store) runFill(ctx context.Context, f *flight, d digest.Digest, size int64, fetch func(ctx context.Context, w io.Writer) error) {
	defer f.cancel()
	var pinned *entry
	err := func() error {
		w, err := s.NewWriter(ctx)
		if err != nil {
			return err
		}
		defer w.Close()
		if err := fetch(ctx, w); err != nil {
			if w.err != nil {
				return w.err
			}
			return fmt.Errorf("content: fill %s: %w", d, err)
		}
		pinned, err = w.commit(ctx, d, size, true)
		return err
	}()
	s.mu.Lock()
	delete(s.flights, d)
	f.err, f.pinned, f.over = err, pinned, true
	if f.waiters == 0 {
		s.releaseLocked(f)
	}
	s.mu.Unlock()
	close(f.done)
}

// leave is a waiter going: the last one cancels a fetch still running, or
// releases the pin of the filled blob.
func (s *Store) leave(f *flight) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.waiters--
	if f.waiters > 0 {
		return
	}
	if f.over {
		s.releaseLocked(f)
	} else {
		f.cancel()
	}
}

func (s *Store) releaseLocked(f *flight) {
	if e := f.pinned; e != nil {
		f.pinned = nil
		e.pins--
		if e.pins == 0 {
			s.evictLocked()
		}
	}
}
