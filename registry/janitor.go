package registry

import "time"

// runJanitor drops stale upload sessions and leftover temporary files
// now and then.
func (reg *Registry) runJanitor() {
	defer reg.janitor.Done()
	t := time.NewTicker(reg.o.janitorEvery)
	defer t.Stop()
	for {
		select {
		case <-reg.stop:
			return
		case <-t.C:
			reg.expireUploads()
			if n, err := reg.removeTemps(); err != nil {
				reg.o.logger.Warn("registry: removing leftover temporary files", "err", err)
			} else if n > 0 {
				reg.o.logger.Info("registry: removed leftover temporary files", "count", n)
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
