package auth

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClientAddr: IPv4 clients are throttled per address, IPv6 per /64.
func TestClientAddr(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.1:5":              "192.0.2.1",
		"[2001:db8:1:2:3::4]:5":    "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::]:80": "2001:db8:1:2::/64",
		"garbage":                  "garbage",
	} {
		r := &http.Request{RemoteAddr: addr}
		if got := ClientAddr(r); got != want {
			t.Errorf("ClientAddr(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestThrottle: failures count per address and user name (UserBurst) and
// per address (AddressBurst); budgets refill.
func TestThrottle(t *testing.T) {
	now := time.Now()
	th := NewThrottle(func() time.Time { return now })
	for range UserBurst {
		th.Fail("192.0.2.1", "alice")
	}
	if th.Wait("192.0.2.1", "alice") <= 0 {
		t.Error("alice not throttled after UserBurst failures")
	}
	if d := th.Wait("192.0.2.1", "bob"); d != 0 {
		t.Errorf("bob behind the same address throttled for %s", d)
	}
	if d := th.Wait("192.0.2.2", "alice"); d != 0 {
		t.Errorf("alice from another address throttled for %s", d)
	}
	for i := range AddressBurst {
		th.Fail("192.0.2.3", "user"+strconv.Itoa(i))
	}
	if th.Wait("192.0.2.3", "someone-else") <= 0 {
		t.Error("an address that failed AddressBurst times over many names is not throttled")
	}
	now = now.Add(UserRefill)
	if d := th.Wait("192.0.2.1", "alice"); d != 0 {
		t.Errorf("after UserRefill: still %s", d)
	}
	long := strings.Repeat("x", 1<<20)
	th.Fail("192.0.2.4", long)
	for _, k := range th.keys.Keys() {
		if len(k) > 200 {
			t.Errorf("a throttle key of %d bytes", len(k))
		}
	}
}
