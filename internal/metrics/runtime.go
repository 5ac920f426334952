package metrics

import (
	"bufio"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RegisterRuntime adds the Go runtime and process series Prometheus
// clients export, under the same names (go_goroutines,
// go_memstats_heap_inuse_bytes, process_resident_memory_bytes, ...), so
// dashboards made for them work. Memory statistics are read once per
// scrape. The process series come from /proc and are left out elsewhere.
func RegisterRuntime(r *Registry) {
	ms := &memStats{}
	r.register("go_info", &infoFamily{})
	r.NewGaugeFunc("go_goroutines", "Number of goroutines that currently exist.", func() float64 { return float64(runtime.NumGoroutine()) })
	r.NewGaugeFunc("go_threads", "Number of OS threads created.", func() float64 { return float64(pprof.Lookup("threadcreate").Count()) })
	for _, m := range []struct {
		name, help, kind string
		get              func(*runtime.MemStats) float64
	}{
		{"go_memstats_alloc_bytes", "Number of bytes allocated in heap and currently in use.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.HeapAlloc) }},
		{"go_memstats_alloc_bytes_total", "Total number of bytes allocated in heap until now.", "counter", func(s *runtime.MemStats) float64 { return float64(s.TotalAlloc) }},
		{"go_memstats_heap_alloc_bytes", "Number of heap bytes allocated and currently in use.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.HeapAlloc) }},
		{"go_memstats_heap_inuse_bytes", "Number of heap bytes that are in use.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.HeapInuse) }},
		{"go_memstats_heap_idle_bytes", "Number of heap bytes waiting to be used.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.HeapIdle) }},
		{"go_memstats_heap_objects", "Number of currently allocated objects.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.HeapObjects) }},
		{"go_memstats_sys_bytes", "Number of bytes obtained from system.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.Sys) }},
		{"go_memstats_next_gc_bytes", "Number of heap bytes when next garbage collection will take place.", "gauge", func(s *runtime.MemStats) float64 { return float64(s.NextGC) }},
		{"go_gc_cycles_total", "Number of completed GC cycles.", "counter", func(s *runtime.MemStats) float64 { return float64(s.NumGC) }},
		{"go_gc_pause_seconds_total", "Total time the garbage collector stopped the world.", "counter", func(s *runtime.MemStats) float64 { return float64(s.PauseTotalNs) / 1e9 }},
	} {
		get := m.get
		r.register(m.name, &scalar{name: m.name, help: m.help, kind: m.kind, value: func() float64 { return get(ms.read()) }})
	}
	if _, err := os.Stat("/proc/self/stat"); err == nil {
		registerProcess(r)
	}
}

// memStats reads runtime.MemStats at most once per scrape (a scrape
// writes every family within well under a second).
type memStats struct {
	mu   sync.Mutex
	at   time.Time
	last runtime.MemStats
}

func (m *memStats) read() *runtime.MemStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	if time.Since(m.at) > time.Second {
		runtime.ReadMemStats(&m.last)
		m.at = time.Now()
	}
	return &m.last
}

// infoFamily is go_info{version="go1.x"} 1.
type infoFamily struct{}

func (infoFamily) write(w *bufio.Writer) {
	header(w, "go_info", "Information about the Go environment.", "gauge")
	sample(w, "go_info", `version="`+escapeLabel(runtime.Version())+`"`, 1)
}

// registerProcess adds the process_* series from /proc/self.
func registerProcess(r *Registry) {
	r.NewCounterFunc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", func() float64 {
		st := procStat()
		return st.cpuSeconds
	})
	r.NewGaugeFunc("process_resident_memory_bytes", "Resident memory size in bytes.", func() float64 { return procStat().rss })
	r.NewGaugeFunc("process_virtual_memory_bytes", "Virtual memory size in bytes.", func() float64 { return procStat().vsize })
	r.NewGaugeFunc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", func() float64 { return procStat().start })
	r.NewGaugeFunc("process_open_fds", "Number of open file descriptors.", func() float64 {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			return 0
		}
		return float64(len(ents))
	})
}

// clockTicks is USER_HZ, 100 on every Linux platform Go supports.
const clockTicks = 100

type procStats struct {
	cpuSeconds, rss, vsize, start float64
}

// procStat reads /proc/self/stat (proc(5)): fields 14-15 utime and stime,
// 22 starttime (ticks after boot), 23 vsize (bytes), 24 rss (pages).
func procStat() procStats {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return procStats{}
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s) // f[0] is field 3
	field := func(n int) float64 {
		if n-3 >= len(f) {
			return 0
		}
		v, _ := strconv.ParseFloat(f[n-3], 64)
		return v
	}
	return procStats{
		cpuSeconds: (field(14) + field(15)) / clockTicks,
		vsize:      field(23),
		rss:        field(24) * float64(os.Getpagesize()),
		start:      bootTime() + field(22)/clockTicks,
	}
}

var bootTime = sync.OnceValue(func() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			t, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return t
		}
	}
	return 0
})
