package metrics

import (
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestExposition(t *testing.T) {
	r := NewRegistry()
	reqs := r.NewCounterVec("tailor_requests_total", "Requests by route and code.", "route", "code")
	errs := r.NewCounter("tailor_errors_total", "Errors.\nSecond line with \\ backslash.")
	r.NewGaugeFunc("tailor_cache_bytes", "Bytes cached.", func() float64 { return 1.5e9 })
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reqs.WithLabelValues("manifest", "200").Inc()
		}()
	}
	wg.Wait()
	reqs.WithLabelValues("blob", "404").Add(2)
	reqs.WithLabelValues(`we"ird`+"\n", "500").Inc()
	errs.Inc()

	var b strings.Builder
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP tailor_cache_bytes Bytes cached.
# TYPE tailor_cache_bytes gauge
tailor_cache_bytes 1.5e+09
# HELP tailor_errors_total Errors.\nSecond line with \\ backslash.
# TYPE tailor_errors_total counter
tailor_errors_total 1
# HELP tailor_requests_total Requests by route and code.
# TYPE tailor_requests_total counter
tailor_requests_total{route="blob",code="404"} 2
tailor_requests_total{route="manifest",code="200"} 50
tailor_requests_total{route="we\"ird\n",code="500"} 1
`
	if b.String() != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestRuntimeSeries: the Go and process series exist with sensible values
// and every line is in the text format Prometheus parses.
func TestRuntimeSeries(t *testing.T) {
	r := NewRegistry()
	RegisterRuntime(r)
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); ct != ContentType {
		t.Errorf("Content-Type %q", ct)
	}
	line := regexp.MustCompile(`^(# (HELP|TYPE) [a-z_]+ .*|[a-z_]+(\{[a-z_]+="[^"]*"\})? [-+0-9.eInfNa]+)$`)
	values := map[string]float64{}
	for _, l := range strings.Split(strings.TrimSpace(rec.Body.String()), "\n") {
		if !line.MatchString(l) {
			t.Errorf("not exposition format: %q", l)
		}
		if !strings.HasPrefix(l, "#") {
			name, v, _ := strings.Cut(l, " ")
			values[name], _ = strconv.ParseFloat(v, 64)
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_inuse_bytes", "go_memstats_sys_bytes", "go_threads"} {
		if values[name] <= 0 {
			t.Errorf("%s = %v, want > 0", name, values[name])
		}
	}
	if _, err := os.Stat("/proc/self/stat"); err == nil {
		if rss := values["process_resident_memory_bytes"]; rss < 1<<20 || rss > 1<<36 {
			t.Errorf("process_resident_memory_bytes = %v", rss)
		}
		if start := values["process_start_time_seconds"]; time.Since(time.Unix(int64(start), 0)) > 24*time.Hour || start > float64(time.Now().Unix()+1) {
			t.Errorf("process_start_time_seconds = %v, not this process's start", start)
		}
		if values["process_open_fds"] < 3 {
			t.Errorf("process_open_fds = %v", values["process_open_fds"])
		}
	}
	if !strings.Contains(rec.Body.String(), `go_info{version="go`) {
		t.Error("no go_info")
	}
}

func TestMisuse(t *testing.T) {
	r := NewRegistry()
	v := r.NewCounterVec("x_total", "x", "a")
	for name, f := range map[string]func(){
		"wrong label count": func() { v.WithLabelValues("1", "2") },
		"negative add":      func() { v.WithLabelValues("1").Add(-1) },
		"registered twice":  func() { r.NewCounter("x_total", "again") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestCounterVecBounded: label values a client chose (a 1 MB HTTP method)
// cost at most MaxLabelBytes each, and at most MaxSeries+1 series however
// many distinct values come: the rest count in the overflow series.
func TestCounterVecBounded(t *testing.T) {
	r := NewRegistry()
	v := r.NewCounterVec("tailor_requests_total", "Requests.", "method", "code")
	long := strings.Repeat("M", 1<<20)
	for i := range 3 * MaxSeries {
		v.WithLabelValues(long+strconv.Itoa(i), "200").Inc()
		v.WithLabelValues("GET"+strconv.Itoa(i), "200").Inc()
	}
	var b strings.Builder
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, "\ntailor_requests_total{"); n != MaxSeries+1 {
		t.Errorf("%d series, want %d", n, MaxSeries+1)
	}
	if limit := (MaxSeries + 1) * (MaxLabelBytes + 64); len(out) > limit {
		t.Errorf("exposition is %d bytes, want at most %d", len(out), limit)
	}
	// Long values are cut to one series (they share their first 128 bytes);
	// the distinct short values fill the family, the rest overflow.
	cutName := `method="` + strings.Repeat("M", MaxLabelBytes) + `",code="200"} 3000`
	if !strings.Contains(out, cutName) {
		t.Errorf("the cut long method is not one series of 3000")
	}
	over := `tailor_requests_total{method="` + OverflowLabel + `",code="` + OverflowLabel + `"} 2001`
	if !strings.Contains(out, over) {
		t.Errorf("no overflow series %q", over)
	}
}
