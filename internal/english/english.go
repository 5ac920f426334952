// Package english spells counts for people: "1 entry", "2 entries".
package english

import "strconv"

// Count is n followed by one when n is 1, else by many.
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
