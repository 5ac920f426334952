// Command gocrypto is verify's Go test program: crypto (SHA-256, AES-GCM,
// whose assembly picks AES-NI, AVX2 or SHA-NI code by a CPU check), maps
// (aeshash), copies (memmove's AVX paths), bytes.IndexByte, goroutines (a
// preempted goroutine's registers saved by asyncPreempt) and sorting.
// Built GOAMD64=v1 it runs on any x86-64; built GOAMD64=v3 its runtime
// refuses CPUs below x86-64-v3.
package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"fmt"
	"math/bits"
	"os"
	"sort"
	"strconv"
	"sync"
)

func main() {
	n := 2000
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil {
			n = v
		}
	}
	buf := make([]byte, 1<<16)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	sum := sha256.Sum256(buf)
	block, _ := aes.NewCipher(sum[:16])
	gcm, _ := cipher.NewGCM(block)
	sealed := gcm.Seal(nil, make([]byte, gcm.NonceSize()), buf[:4096], nil)
	m := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < n; i++ {
				k := strconv.Itoa(i * g)
				mu.Lock()
				m[k] += bits.OnesCount(uint(i))
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	big := bytes.Repeat(buf, 8)
	cp := make([]byte, len(big))
	copy(cp, big)
	fmt.Println(len(sealed), len(keys), bytes.IndexByte(cp, 0xff), sum[0])
}
