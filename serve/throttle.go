package serve

import (
	"math"
	"net/http"
	"strconv"

	"github.com/tailor-dev/tailor/serve/auth"
)

// loginRefused is the one answer to a wrong password and an unknown user
// alike: telling them apart would let a client find the users.
const loginRefused = "login refused: unknown user or wrong password (a user of the htpasswd file, or a profile as user name: cpu=zen3, none)"

// checkLogin checks user and pass against the htpasswd file, throttled
// (package auth): nil when they are right, else 401 (429 with
// Retry-After when the client failed too often or too many logins are
// being checked).
func (s *Server) checkLogin(r *http.Request, user, pass string) *regError {
	addr := auth.ClientAddr(r)
	if d := s.logins.Wait(addr, user); d > 0 {
		s.m.logins.WithLabelValues("throttled").Inc()
		e := newError(http.StatusTooManyRequests, codeTooManyRequests, "too many failed logins from this address: try again later", nil)
		e.RetryAfter = strconv.Itoa(int(math.Ceil(d.Seconds())))
		return e
	}
	ok, err := s.o.htpasswd.Check(r.Context(), user, pass)
	if err != nil {
		s.m.logins.WithLabelValues("throttled").Inc()
		e := newError(http.StatusTooManyRequests, codeTooManyRequests, "too many logins being checked: try again later", nil)
		e.RetryAfter = "1"
		return e
	}
	if ok {
		s.m.logins.WithLabelValues("ok").Inc()
		return nil
	}
	s.logins.Fail(addr, user)
	s.m.logins.WithLabelValues("refused").Inc()
	return newError(http.StatusUnauthorized, codeUnauthorized, loginRefused, nil)
}
