// Package distspec is the vocabulary of the OCI distribution protocol as
// tailor's registry, server and client speak it: the error body and its
// codes, the grammar of repository names and tags, the manifest media
// types and the bound on a manifest's size. One definition, so the
// embedded registry, tailor serve and the client never disagree on what
// a name is or how an error reads.
package distspec
