// Command trustgo does runtime-heavy work with the standard library's
// crypto, maps, sorting, goroutines and compression, so that the Go
// runtime's CPU-dispatched paths (memmove, indexbyte, aeshash, AES-GCM,
// SHA-256) are exercised under each CPU model.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
)

func main() {
	data := bytes.Repeat([]byte("tailor verifies what programs need. "), 4096)
	sum := sha256.Sum256(data)
	block, err := aes.NewCipher(sum[:16])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	gcm, _ := cipher.NewGCM(block)
	sealed := gcm.Seal(nil, make([]byte, gcm.NonceSize()), data, nil)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(sealed)
	zw.Close()
	counts := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for _, w := range strings.Fields(string(data[i*100 : i*100+4000])) {
				mu.Lock()
				counts[w]++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Printf("%x %d %d %s %d\n", sum[:4], len(sealed), buf.Len(), keys[0], bytes.IndexByte(data, '.'))
}
