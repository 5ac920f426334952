package match

import (
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/tailor-dev/tailor/requirement"
)

// ErrNoMatch is returned (wrapped in a *NoMatchError) when no entry of an
// index can run on the host.
var ErrNoMatch = errors.New("no entry of the index fits this host")

// Check is one requirement of an entry checked against the host.
type Check struct {
	// Requirement names what was checked: "platform", "cpu", "features",
	// "cuda", "cuda-driver", "rocm", "label".
	Requirement string `json:"requirement"`
	// OK is true when the host satisfies it.
	OK bool `json:"ok"`
	// Detail says why, for people: "needs avx512f, host lacks it".
	Detail string `json:"detail"`
	// Assumed is true when it held on an assumption, not on a fact of the
	// host: a hand-written profile's GPU without driver version is taken
	// to have a driver new enough. --explain says so.
	Assumed bool `json:"assumed,omitempty"`
}

// Candidate is one index entry with its verdict for a host.
type Candidate struct {
	// Index is the entry's position in the index.
	Index int `json:"index"`
	// Descriptor is the entry as given (it shares its Platform and
	// Annotations with the caller's descriptor).
	Descriptor v1.Descriptor `json:"descriptor"`
	// Reqs are the entry's requirements; the zero value when they were not
	// read (an entry with no platform, or a malformed one under Lenient).
	Reqs requirement.Requirements `json:"requirements"`
	// Fits is true when every check holds.
	Fits bool `json:"fits"`
	// Rank is 1 for the best fitting entry, 2 for the next...; 0 when it does not fit.
	Rank   int     `json:"rank,omitempty"`
	Checks []Check `json:"checks"`

	// score holds the ranking keys Match computed (see Less).
	score score
}

// Failed returns the checks that did not hold.
func (c Candidate) Failed() []Check {
	var out []Check
	for _, ch := range c.Checks {
		if !ch.OK {
			out = append(out, ch)
		}
	}
	return out
}

// NoMatchError lists every entry with the requirement that failed.
type NoMatchError struct {
	Candidates []Candidate
}

// Error names, per entry, the requirements that failed.
func (e *NoMatchError) Error() string {
	var b strings.Builder
	b.WriteString(ErrNoMatch.Error())
	if len(e.Candidates) == 0 {
		b.WriteString(": the index has no entries")
	}
	for _, c := range e.Candidates {
		var why []string
		for _, ch := range c.Failed() {
			why = append(why, ch.Detail)
		}
		reqs := c.Reqs.String()
		if c.Reqs.Source == "" {
			reqs = "requirements not read"
		}
		fmt.Fprintf(&b, "\n  entry %d (%s, %s): %s", c.Index, c.Descriptor.Digest, reqs, strings.Join(why, "; "))
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrNoMatch) hold.
func (e *NoMatchError) Unwrap() error { return ErrNoMatch }
