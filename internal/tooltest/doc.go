// Package tooltest finds the external programs tests need (qemu-user,
// gcc): a test that needs a missing program is skipped on a developer's
// machine, but fails where TAILOR_REQUIRE_TOOLS names it (or is "all"), as
// CI sets it, so a missing tool there is a failure, never a silent skip.
package tooltest
