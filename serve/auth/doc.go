// Package auth is the authentication of tailor serve: htpasswd logins
// (bcrypt, as `htpasswd -B` writes), the throttle of failed logins, and
// the bearer tokens of docker's token flow (signed claims, the key they
// are signed with, the scopes a login may be granted).
//
// It guards against what a client on the internet can try: finding the
// users of the file by timing (every check costs what the file's
// costliest hash costs, whatever user is named), spending the server's
// CPU on bcrypt (a global cap on concurrent checks, a bounded queue
// beyond it), and guessing passwords (failures are throttled per address
// and user name, and per address, so one client behind a shared proxy
// address does not lock the others out).
package auth
