package serve

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseSize reads a size in bytes: a number with an optional unit, B, K,
// M, G or T, powers of 1024, with or without "iB" or "B" (20G, 20GiB,
// 512MB, 1048576). 0 is 0.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.ToUpper(strings.TrimSpace(t[i:]))
	}
	unit = strings.TrimSuffix(strings.TrimSuffix(unit, "B"), "I")
	shift := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}
	sh, ok := shift[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || f < 0 || num == "" {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional unit (K, M, G, T; 20G, 512MiB)", s)
	}
	v := f * float64(uint64(1)<<sh)
	if v > math.MaxInt64/2 {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return int64(v), nil
}
