package serve

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// Failed logins are throttled per client address: a client may fail
// loginBurst times, then once per loginRefill; beyond that its logins are
// answered 429 with Retry-After without a password being checked (which
// also spares the CPU a bcrypt costs). Addresses are IPv4 hosts or IPv6
// /64 networks (one host often holds a whole /64); the table keeps the
// loginClients most recent.
const (
	loginBurst   = 10
	loginRefill  = 6 * time.Second
	loginClients = 16384
)

// loginRefused is the one answer to a wrong password and an unknown user
// alike: telling them apart would let a client find the users.
const loginRefused = "login refused: unknown user or wrong password (a user of the htpasswd file, or a profile as user name: cpu=zen3, none)"

// loginLimiter holds the failure budget of each client.
type loginLimiter struct {
	mu      sync.Mutex
	clients *lru.Cache[string, *bucket]
	now     func() time.Time
}

// bucket is a client's budget: tokens left at last.
type bucket struct {
	tokens float64
	last   time.Time
}

func newLoginLimiter() *loginLimiter {
	c, _ := lru.New[string, *bucket](loginClients) // only fails for a size <= 0
	return &loginLimiter{clients: c, now: time.Now}
}

// refilled is b's budget now.
func (l *loginLimiter) refilled(b *bucket) float64 {
	return math.Min(loginBurst, b.tokens+float64(l.now().Sub(b.last))/float64(loginRefill))
}

// wait is how long client must wait before its next login is checked; 0
// when it may try now.
func (l *loginLimiter) wait(client string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.clients.Get(client)
	if !ok {
		return 0
	}
	t := l.refilled(b)
	if t >= 1 {
		return 0
	}
	return time.Duration((1 - t) * float64(loginRefill))
}

// fail takes one failure from client's budget.
func (l *loginLimiter) fail(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.clients.Get(client)
	if !ok {
		b = &bucket{tokens: loginBurst}
	} else {
		b.tokens = l.refilled(b)
	}
	b.tokens = math.Max(0, b.tokens-1)
	b.last = l.now()
	l.clients.Add(client, b)
}

// clientKey is the throttling key of r's peer.
func clientKey(r *http.Request) string {
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

// checkLogin checks user and pass against the htpasswd file, throttled:
// nil when they are right, else 401 (429 with Retry-After when the
// client failed too often).
func (s *Server) checkLogin(r *http.Request, user, pass string) *regError {
	key := clientKey(r)
	if d := s.logins.wait(key); d > 0 {
		s.m.logins.WithLabelValues("throttled").Inc()
		e := newError(http.StatusTooManyRequests, codeTooManyRequests, "too many failed logins from this address: try again later", nil)
		e.retryAfter = strconv.Itoa(int(math.Ceil(d.Seconds())))
		return e
	}
	if s.o.htpasswd.valid(user, pass) {
		s.m.logins.WithLabelValues("ok").Inc()
		return nil
	}
	s.logins.fail(key)
	s.m.logins.WithLabelValues("refused").Inc()
	return newError(http.StatusUnauthorized, codeUnauthorized, loginRefused, nil)
}
