package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tailor-dev/tailor/catalog"
	"github.com/tailor-dev/tailor/profile"
	"github.com/tailor-dev/tailor/requirement"
)

// Exit codes.
const (
	exitOK = 0
	// exitFailure: the command ran but did not succeed (no fitting entry,
	// a registry error, a failed build).
	exitFailure = 1
	// exitUsage: bad input (flags, arguments, a malformed file, profile,
	// reference or requirement).
	exitUsage = 2
)

// exitError carries an exit code with an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks err as bad input: exit status 2.
func usageError(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: exitUsage, err: err}
}

// badInputErrors are the sentinel classes that always mean bad input.
var badInputErrors = []error{catalog.ErrUnknownTarget, profile.ErrInvalid, requirement.ErrMalformed}

// exitCode decides the exit status of err.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	for _, s := range badInputErrors {
		if errors.Is(err, s) {
			return exitUsage
		}
	}
	// cobra's own errors for a command line it cannot take.
	if msg := err.Error(); strings.HasPrefix(msg, "unknown command") || strings.Contains(msg, "arg(s)") ||
		strings.HasPrefix(msg, "required flag(s)") || strings.HasPrefix(msg, "if any flags in the group") {
		return exitUsage
	}
	return exitFailure
}

// report prints err as "tailor: ..." on stderr and returns its exit code.
func report(err error, stderr io.Writer) int {
	code := exitCode(err)
	if err != nil {
		fmt.Fprintf(stderr, "tailor: %v\n", err)
	}
	return code
}
