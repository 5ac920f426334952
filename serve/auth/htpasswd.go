package auth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/bcrypt"
)

// ErrBusy is Check's answer when too many checks wait already: the
// caller should ask the client to retry (429) rather than queue more.
var ErrBusy = errors.New("too many logins being checked")

// Htpasswd holds bcrypt password hashes by user, as `htpasswd -B` writes
// them. It is safe for concurrent use.
//
// A check does the work of one comparison with the file's costliest hash
// (cost m: 2^m rounds), whoever is named: an unknown user is compared
// with a dummy hash of cost m, and a user whose hash has cost c < m is
// compared with it and then with dummies of costs c, c+1, ... m-1
// (2^c + 2^c + 2^(c+1) + ... + 2^(m-1) = 2^m rounds), so neither unknown
// users nor cheaply hashed ones stand out by timing, on a busy machine
// too (real work, not a sleep). At
// most a few checks run at once (WithMaxChecks: half the CPUs by
// default), so logins never take all the CPU from other requests; a
// bounded number wait, and past that Check answers ErrBusy at once.
type Htpasswd struct {
	users      map[string][]byte
	dummies    map[int][]byte // by cost, from the file's cheapest to its costliest
	maxCost    int
	compare    func(hash, password []byte) error
	slots      chan struct{}
	waiting    atomic.Int64
	maxWaiting int64
}

// HtpasswdOption configures an Htpasswd.
type HtpasswdOption func(*Htpasswd) error

// WithMaxChecks bounds the bcrypt comparisons running at once to n and
// those waiting for a turn to waiting (defaults: half the CPUs, at least
// one; 64 per running one).
func WithMaxChecks(n, waiting int) HtpasswdOption {
	return func(h *Htpasswd) error {
		if n <= 0 || waiting < 0 {
			return fmt.Errorf("htpasswd check bounds %d running, %d waiting: want positive, not negative", n, waiting)
		}
		h.slots, h.maxWaiting = make(chan struct{}, n), int64(waiting)
		return nil
	}
}

// WithCompare replaces bcrypt.CompareHashAndPassword: for tests that
// count or hold comparisons.
func WithCompare(f func(hash, password []byte) error) HtpasswdOption {
	return func(h *Htpasswd) error {
		if f == nil {
			return errors.New("htpasswd compare: nil")
		}
		h.compare = f
		return nil
	}
}

// LoadHtpasswd reads an htpasswd file of bcrypt hashes.
func LoadHtpasswd(path string, opts ...HtpasswdOption) (*Htpasswd, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("htpasswd: %w", err)
	}
	n := max(1, runtime.GOMAXPROCS(0)/2)
	h := &Htpasswd{users: map[string][]byte{}, compare: bcrypt.CompareHashAndPassword,
		slots: make(chan struct{}, n), maxWaiting: int64(64 * n), maxCost: bcrypt.MinCost, dummies: map[int][]byte{}}
	for _, o := range opts {
		if err := o(h); err != nil {
			return nil, err
		}
	}
	minCost := bcrypt.MaxCost
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		user, hash, ok := strings.Cut(t, ":")
		c, err := bcrypt.Cost([]byte(hash))
		if !ok || user == "" || err != nil {
			return nil, fmt.Errorf("htpasswd %s:%d: want user:bcrypt-hash (htpasswd -B)", path, line)
		}
		h.users[user] = []byte(hash)
		h.maxCost = max(h.maxCost, c)
		minCost = min(minCost, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("htpasswd %s: %w", path, err)
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	for c := min(minCost, h.maxCost); c <= h.maxCost; c++ {
		if h.dummies[c], err = bcrypt.GenerateFromPassword(secret, c); err != nil {
			return nil, fmt.Errorf("htpasswd %s: %w", path, err)
		}
	}
	return h, nil
}

// Has reports whether user is a user of the file.
func (h *Htpasswd) Has(user string) bool {
	return h != nil && h.users[user] != nil
}

// Check reports whether pass is user's password. It costs the work of
// one comparison with the file's costliest hash, whether user exists or
// not; ErrBusy when too many checks wait, ctx's error when it ends
// before its turn.
func (h *Htpasswd) Check(ctx context.Context, user, pass string) (bool, error) {
	if h == nil {
		return false, nil
	}
	if h.waiting.Add(1) > h.maxWaiting+int64(cap(h.slots)) {
		h.waiting.Add(-1)
		return false, ErrBusy
	}
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		h.waiting.Add(-1)
		return false, ctx.Err()
	}
	defer func() {
		<-h.slots
		h.waiting.Add(-1)
	}()
	hash, ok := h.users[user]
	if !ok {
		hash = h.dummies[h.maxCost]
	}
	err := h.compare(hash, []byte(pass))
	cost, _ := bcrypt.Cost(hash)
	for c := cost; c < h.maxCost; c++ {
		_ = h.compare(h.dummies[c], []byte(pass))
	}
	return ok && err == nil, nil
}
