// Package match picks the best entry of an image index for a host profile
// (DESIGN.md §3): it keeps the entries whose platform and every requirement
// the host satisfies, records why each entry fits or not, and ranks the
// fitting ones — GPU code first, then the most specific CPU target, then
// label matches, ties in index order, the generic build last.
package match
