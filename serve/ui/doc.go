// Package ui is tailor serve's web view at /ui/: the repositories (an
// embedded registry's) or the images a mirror served recently, each index's
// variant matrix (entries × known targets, which entry each target gets, as
// `tailor inspect` shows it), and what the server handed out, per profile,
// with counts. Plain server-rendered HTML, no JavaScript.
//
// The view reads the server through a small interface, Source (RemoteSource
// reads any registry with tailor's client), and the answers from a Log the
// server records into.
package ui
