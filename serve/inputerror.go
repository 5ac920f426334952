package serve

import "errors"

// ErrBadInput marks the errors of New that come from its options (a
// malformed upstream, an unreadable htpasswd file), as against failures of
// its storage or of the machine: the CLI exits 2 for the first, 1 for the
// others. Test with errors.Is.
var ErrBadInput = errors.New("bad server option")

// inputError is an option's error, marked ErrBadInput with its message
// unchanged.
type inputError struct{ err error }

func (e inputError) Error() string   { return e.err.Error() }
func (e inputError) Unwrap() []error { return []error{e.err, ErrBadInput} }
