// Package engines tests tailor with real container engines: Debian's
// dockerd 20.10 (with a private containerd) and podman 4.3, each kept
// private (own sockets, data and config under a temporary directory) and
// stopped at the end. They pull through a real `tailor serve` (the
// tailored answer, --platform, a login profile, mirror mode as
// `tailor mirror-config` writes it) and run the probe image, whose
// program prints the target it was built for, so a test sees which entry
// an engine ran.
//
// The tests need root and start daemons, so they run only where
// TAILOR_ENGINE_TESTS=1 (.ci/steps/18-engines.sh sets it); there a missing
// engine is a failure, not a skip.
package engines
