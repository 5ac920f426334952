package auth

import (
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Failed logins are throttled per client address and user name: a
// client may fail UserBurst times for one user name, then once per
// UserRefill; and AddressBurst times for all names together, then once
// per AddressRefill. Beyond that its logins are answered without a
// password being checked (which also spares the CPU a bcrypt costs).
// Counting per user name too means that behind one proxy address, one
// client's failures do not lock the other users out; the per-address
// budget bounds guessing over many names. Addresses are IPv4 hosts or
// IPv6 /64 networks (one host often holds a whole /64); the table keeps
// the throttleKeys most recent keys, user names cut to maxUserKey bytes.
const (
	UserBurst     = 10
	UserRefill    = 6 * time.Second
	AddressBurst  = 100
	AddressRefill = 600 * time.Millisecond
	throttleKeys  = 16384
	maxUserKey    = 128
)

// Throttle holds the failure budgets of clients. It is safe for
// concurrent use.
type Throttle struct {
	mu   sync.Mutex
	keys *lru.Cache[string, *bucket]
	now  func() time.Time
}

// bucket is a budget: tokens left at last.
type bucket struct {
	tokens float64
	last   time.Time
}

// NewThrottle returns a Throttle; now is its clock (nil: time.Now).
func NewThrottle(now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	c, _ := lru.New[string, *bucket](throttleKeys) // only fails for a size <= 0
	return &Throttle{keys: c, now: now}
}

// budgets are the keys of addr and user with their bursts and refills.
func budgets(addr, user string) [2]struct {
	key    string
	burst  float64
	refill time.Duration
} {
	if len(user) > maxUserKey {
		user = user[:maxUserKey]
	}
	return [2]struct {
		key    string
		burst  float64
		refill time.Duration
	}{
		{addr + "\x00" + user, UserBurst, UserRefill},
		{addr, AddressBurst, AddressRefill},
	}
}

// Wait is how long the client at addr must wait before its next login
// as user is checked; 0 when it may try now.
func (t *Throttle) Wait(addr, user string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, b := range budgets(addr, user) {
		k, ok := t.keys.Get(b.key)
		if !ok {
			continue
		}
		left := t.refilled(k, b.burst, b.refill)
		if left < 1 {
			wait = max(wait, time.Duration((1-left)*float64(b.refill)))
		}
	}
	return wait
}

// Fail takes one failure of the client at addr, logging in as user.
func (t *Throttle) Fail(addr, user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range budgets(addr, user) {
		k, ok := t.keys.Get(b.key)
		if !ok {
			k = &bucket{tokens: b.burst}
		} else {
			k.tokens = t.refilled(k, b.burst, b.refill)
		}
		k.tokens = math.Max(0, k.tokens-1)
		k.last = t.now()
		t.keys.Add(b.key, k)
	}
}

func (t *Throttle) refilled(k *bucket, burst float64, refill time.Duration) float64 {
	return math.Min(burst, k.tokens+float64(t.now().Sub(k.last))/float64(refill))
}

// ClientAddr is the throttling address of r's peer: the IPv4 host, the
// IPv6 /64.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}
