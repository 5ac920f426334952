package registry

import (
	"context"
	"time"
)

// runJanitor drops stale upload sessions and leftover temporary files
// now and then, and collects unlinked blobs (gc.go).
func (reg *Registry) runJanitor() {
	defer reg.janitor.Done()
	every := reg.o.janitorEvery
	if g := reg.o.gcEvery; g > 0 && g < every {
		every = g
	}
	t := time.NewTicker(every)
	defer t.Stop()
	lastGC, lastTidy := time.Now(), time.Now()
	for {
		select {
		case <-reg.stop:
			return
		case <-t.C:
			if time.Since(lastTidy) >= reg.o.janitorEvery-every/2 {
				lastTidy = time.Now()
				reg.expireUploads()
				if n, err := reg.removeTemps(); err != nil {
					reg.o.logger.Warn("registry: removing leftover temporary files", "err", err)
				} else if n > 0 {
					reg.o.logger.Info("registry: removed leftover temporary files", "count", n)
				}
			}
			if reg.o.gcEvery > 0 && time.Since(lastGC) >= reg.o.gcEvery-every/2 {
				lastGC = time.Now()
				reg.runGC()
			}
		}
	}
}

// expireUploads drops sessions idle too long or too old; a session busy
// with a request is left for the next round.
func (reg *Registry) expireUploads() int {
	now := reg.o.now()
	reg.up.mu.Lock()
	var stale []*session
	for _, s := range reg.up.sessions {
		stale = append(stale, s)
	}
	reg.up.mu.Unlock()
	n := 0
	for _, s := range stale {
		if !s.mu.TryLock() {
			continue
		}
		if !s.gone && (now.Sub(s.touched) > reg.o.uploadIdle || now.Sub(s.started) > reg.o.uploadMaxAge) {
			reg.dropSession(s)
			n++
		}
		s.mu.Unlock()
	}
	if n > 0 {
		reg.o.logger.Info("registry: dropped stale upload sessions", "count", n)
	}
	return n
}

func (reg *Registry) runGC() {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-reg.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	defer cancel()
	n, size, ran, err := reg.collectGarbage(ctx)
	switch {
	case err != nil:
		reg.o.logger.Warn("registry: collecting unlinked blobs", "err", err)
	case !ran:
		reg.o.logger.Info("registry: an import or collection in progress; unreferenced blobs collected later")
	case n > 0:
		reg.o.logger.Info("registry: removed blobs no manifest references", "count", n, "bytes", size)
	}
}
