package mirrorconfig

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// checkEntry splits a Registries entry (NAME or NAME=URL) and checks both
// parts: the name becomes a directory and a TOML key, the URL a TOML
// string that containerd dials.
func checkEntry(entry string) (reg, upstream string, err error) {
	reg, upstream = upstreamURL(entry)
	if !validRegistry(reg) {
		return "", "", fmt.Errorf("registry %q: want a host[:port] name (letters, digits, '.', '-', then an optional :port)", reg)
	}
	u, perr := url.Parse(upstream)
	if perr != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || !utf8.ValidString(upstream) ||
		strings.ContainsFunc(upstream, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", "", fmt.Errorf("registry %s: upstream %q: want http(s)://host[:port][/path]", reg, upstream)
	}
	return reg, upstream, nil
}

// validRegistry reports whether s is a registry host as containerd names
// its hosts.toml directories: 1-253 of [a-zA-Z0-9.-], not starting with
// '.' or '-', then an optional :port of 1-5 digits.
func validRegistry(s string) bool {
	host, port, hasPort := strings.Cut(s, ":")
	if host == "" || len(host) > 253 || host[0] == '.' || host[0] == '-' || strings.Contains(host, "..") {
		return false
	}
	if hasPort && (len(port) == 0 || len(port) > 5) {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	return true
}

// tomlString is s as a TOML basic string. Go's %q is not one: it writes
// \x.. and \a, \v, which TOML 1.0 (containerd's parser) rejects. Invalid
// UTF-8 becomes U+FFFD (a TOML file is UTF-8); callers check their input
// before it gets here.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
