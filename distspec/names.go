package distspec

import "strings"

// Bounds of what a client names.
const (
	MaxNameLen = 255
	MaxTagLen  = 128
)

// ValidName reports whether s is a repository name of the distribution
// spec: path components of lower-case letters and digits, joined inside
// a component by ".", "_", "__" or runs of "-", at most 255 bytes.
// (Written out: the spec's regular expression compiles slowly, at every
// start of every tailor command.)
func ValidName(s string) bool {
	if s == "" || len(s) > MaxNameLen {
		return false
	}
	for comp := range strings.SplitSeq(s, "/") {
		if !validComponent(comp) {
			return false
		}
	}
	return true
}

func validComponent(c string) bool {
	if c == "" || !lowerAlnum(c[0]) || !lowerAlnum(c[len(c)-1]) {
		return false
	}
	for i := 0; i < len(c); {
		if lowerAlnum(c[i]) {
			i++
			continue
		}
		// A separator: ".", "_", "__" or "-+", then an alphanumeric.
		j := i + 1
		switch c[i] {
		case '.':
		case '_':
			if j < len(c) && c[j] == '_' {
				j++
			}
		case '-':
			for j < len(c) && c[j] == '-' {
				j++
			}
		default:
			return false
		}
		if j >= len(c) || !lowerAlnum(c[j]) {
			return false
		}
		i = j
	}
	return true
}

// lowerAlnum is the alphabet of name components: [a-z0-9].
func lowerAlnum(b byte) bool { return (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') }

// Alnum is [a-zA-Z0-9], the alphabet of tags, upload ids and hosts.
func Alnum(b byte) bool {
	return lowerAlnum(b) || (b >= 'A' && b <= 'Z')
}

// ValidTag reports whether s matches [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
func ValidTag(s string) bool {
	if s == "" || len(s) > MaxTagLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		word := c == '_' || Alnum(c)
		if !word && (i == 0 || (c != '.' && c != '-')) {
			return false
		}
	}
	return true
}
