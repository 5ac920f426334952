package verify

import (
	"os"
	"testing"
)

// FuzzLdCache: any bytes as /etc/ld.so.cache parse or are refused,
// never a panic; names map to absolute paths.
func FuzzLdCache(f *testing.F) {
	if b, err := os.ReadFile("/etc/ld.so.cache"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("glibc-ld.so.cache1.1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for name, paths := range parseLdCache(data) {
			for _, p := range paths {
				if name == "" || p == "" || p[0] != '/' {
					t.Fatalf("%q -> %q", name, p)
				}
			}
		}
	})
}

// FuzzDynamic: any bytes streamed as an ELF file give its dynamic
// information or a reason, never a panic.
func FuzzDynamic(f *testing.F) {
	if exe, err := os.Executable(); err == nil {
		if b, err := os.ReadFile(exe); err == nil {
			f.Add(b[:min(len(b), 1<<20)])
		}
	}
	if b, err := os.ReadFile("/bin/sh"); err == nil {
		f.Add(b)
	}
	f.Add(hugeSegmentELF())
	f.Fuzz(func(t *testing.T, data []byte) {
		var c dynCapture
		if !c.reset(data[:min(len(data), headLen)], int64(len(data))) {
			return
		}
		for i := 0; i < len(data); i += 4096 {
			c.Write(data[i:min(len(data), i+4096)])
		}
		_, _ = c.info()
	})
}

// FuzzShell: any script or -c string is followed or refused, never a
// panic.
func FuzzShell(f *testing.F) {
	f.Add("#!/bin/sh\nexec /app/run \"$@\"\n")
	f.Add("exec 'a b' \"c\" $@ > /dev/null")
	f.Add("cd /x && exec ./y; echo '")
	f.Fuzz(func(t *testing.T, s string) {
		shellExec(s, []string{"arg"})
		shellC([]string{"sh", "-c", s, "sh", "arg"})
		shebang([]byte(s))
	})
}
