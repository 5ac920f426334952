// Package demo runs tailor's whole loop on one machine with nothing set up:
// tailor serve (package serve, its embedded registry in a temporary
// directory) in this process; the forces example built for the levels of
// this architecture and for named microarchitectures of this host's lineage
// the local C compiler knows, pushed to it as one index; the tag resolved
// for this host by tailor's client and pulled as a stock client pulls it
// through serve, both naming the same entry; and the generic, best level and
// tailored binaries run side by side, their results checked against each
// other and their speedup measured in CPU time (rusage), wall time beside it.
package demo
