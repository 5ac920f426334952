// Package stack models a software stack (DESIGN.md §5b): components in
// layer order, each varying along some axes (cpu, cuda, rocm, label axes
// such as fabric or phase). Expand turns a Stack into a Matrix: the product
// of the axes minus the exclude rules, each entry's requirements the union
// of its axis values', and the builds each component needs (one per
// combination of its own axes, shared by every entry that contains it).
// Prune keeps the entries some host of a fleet would be given. Diff says,
// between two published indexes, which entries were added or removed and
// which components of the others changed.
//
// The matrix is plain data; running the builds is package build's work.
package stack
