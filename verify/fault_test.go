package verify

import (
	"strings"
	"testing"
)

// A qemu 7.2 log of a PIE program dying of SIGILL in a library: -d page's
// start_code and entry, then -strace with ld.so opening and mapping libc
// (the result after the page table -d page prints).
const qemuLogSample = `host mmap_min_addr=0x1000
start_code  0x0000004000001000
entry       0x0000004002820b70
1187 openat(-100,"/lib/x86_64-linux-gnu/libc.so.6",O_RDONLY|O_CLOEXEC) = 4
1187 mmap(NULL,1974096,PROT_READ,MAP_PRIVATE|MAP_DENYWRITE,4,0)page layout changed following mmap
start            end              size             prot
0000004000000000-0000004000001000 0000000000001000 r--
 = 0x0000004002848000
1187 mmap(0x000000400286e000,1400832,PROT_EXEC|PROT_READ,MAP_PRIVATE|MAP_DENYWRITE|MAP_FIXED,4,0x26000) = 0x000000400286e000
1187 close(4) = 0
--- SIGILL {si_signo=SIGILL, si_code=2, si_addr=0x00000040028700a2} ---
`

func TestParseQemuLog(t *testing.T) {
	q, err := parseQemuLog(strings.NewReader(qemuLogSample))
	if err != nil {
		t.Fatal(err)
	}
	if !q.sigill || q.addr != 0x40028700a2 || q.startCode != 0x4000001000 || q.entry != 0x4002820b70 {
		t.Errorf("parsed %+v", q)
	}
	if len(q.maps) != 1 || q.maps[0] != (qemuMap{"/lib/x86_64-linux-gnu/libc.so.6", 0x4002848000}) {
		t.Errorf("maps %+v, want libc at its first mapping", q.maps)
	}
	if q, _ := parseQemuLog(strings.NewReader("1 exit_group(0)\n")); q == nil || q.sigill {
		t.Errorf("no SIGILL: %+v", q)
	}
}

func TestGoFault(t *testing.T) {
	stderr := "SIGILL: illegal instruction\nPC=0x4a1b2c m=0 sigcode=2\ninstruction bytes: 0x62 0xf2 0x7d 0x48 0x55 0xd1 0x0 0x0\n\ngoroutine 1 gp=0xc000002380 m=0 mp=0x5de2c0 [running]:\n"
	f := goFault(stderr)
	if f == nil || f.Address != 0x4a1b2c || f.Bytes != "62f27d4855d1" || !strings.Contains(strings.Join(f.Needs, ","), "avx512_vpopcntdq") {
		t.Errorf("goFault: %+v, want vpopcntd at 0x4a1b2c", f)
	}
	if goFault("panic: something else\n") != nil {
		t.Error("goFault of no SIGILL report: want nil")
	}
}

// FuzzQemuLog: any log, however malformed, parses or fails without a
// panic, and the Go runtime's report the same.
func FuzzQemuLog(f *testing.F) {
	f.Add(qemuLogSample)
	f.Add("--- SIGILL {si_addr=0xzz} ---\nstart_code 0x\n 1 mmap(NULL,1,a,b,3,0x0) = 0x10\n")
	f.Add("SIGILL: illegal instruction\nPC=0x1\ninstruction bytes: 0x0f 0x0b 0x1ff\n")
	f.Fuzz(func(t *testing.T, s string) {
		if q, err := parseQemuLog(strings.NewReader(s)); err == nil && len(q.maps) > maxLogMap {
			t.Errorf("%d maps kept, bound %d", len(q.maps), maxLogMap)
		}
		_ = goFault(s)
		_ = notStarted(127, s)
		_ = isaRefusal(s)
	})
}
