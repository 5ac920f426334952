package content

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Digest algorithms the store keeps.
const (
	SHA256 = digest.SHA256
	SHA512 = digest.SHA512
)

// hexLen is the length of an encoded digest per algorithm.
var hexLen = map[digest.Algorithm]int{SHA256: 64, SHA512: 128}

// maxQuoted is how much of a bad input an error quotes.
const maxQuoted = 80

// ParseDigest reads s strictly: "sha256:" and 64 lower-case hex digits, or
// "sha512:" and 128. Anything else is ErrInvalidDigest. The result is safe
// to use as a file name under the store's root.
func ParseDigest(s string) (digest.Digest, error) {
	alg, enc, ok := strings.Cut(s, ":")
	n, known := hexLen[digest.Algorithm(alg)]
	if !ok || !known || len(enc) != n || !isLowerHex(enc) {
		return "", fmt.Errorf("%w: %s", ErrInvalidDigest, quote(s))
	}
	return digest.Digest(s), nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// quote quotes s for an error message, cut to maxQuoted bytes.
func quote(s string) string {
	if len(s) > maxQuoted {
		return fmt.Sprintf("%q... (%d bytes)", s[:maxQuoted], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// newHash returns the hash of a supported algorithm.
func newHash(alg digest.Algorithm) hash.Hash {
	if alg == SHA512 {
		return sha512.New()
	}
	return sha256.New()
}
