// Package metrics keeps a server's counters and gauges and writes them in
// the Prometheus text exposition format (version 0.0.4), with the Go
// runtime and process series every Prometheus client exports.
//
// It is tailor's own rather than prometheus/client_golang because every
// tailor command links the server: client_golang's package initialisation
// (its default registry and collectors, procfs, protobuf) cost each
// `tailor resolve` and `tailor detect` more time than their own work.
// Nothing here runs until a Registry is made.
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Registry holds metric families and writes them, sorted by name.
type Registry struct {
	mu       sync.Mutex
	families map[string]family
}

// family is one metric name with its HELP and TYPE, written as lines.
type family interface {
	write(w *bufio.Writer)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{families: map[string]family{}} }

// register adds f under name; a name registered twice is a programming
// error.
func (r *Registry) register(name string, f family) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.families[name]; dup {
		panic(fmt.Sprintf("metrics: %s registered twice", name))
	}
	r.families[name] = f
}

// Has reports whether a family of that name is registered.
func (r *Registry) Has(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.families[name]
	return ok
}

// WriteTo writes every family in the text exposition format.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	names := make([]string, 0, len(r.families))
	for n := range r.families {
		names = append(names, n)
	}
	fams := make([]family, 0, len(names))
	slices.Sort(names)
	for _, n := range names {
		fams = append(fams, r.families[n])
	}
	r.mu.Unlock()
	cw := &countingWriter{w: w}
	bw := bufio.NewWriter(cw)
	for _, f := range fams {
		f.write(bw)
	}
	err := bw.Flush()
	return cw.n, err
}

// ContentType is the media type of the text exposition format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Handler serves the registry at /metrics.
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", ContentType)
		if req.Method == http.MethodHead {
			return
		}
		_, _ = r.WriteTo(w)
	})
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Counter is a monotonically increasing value.
type Counter struct{ bits atomic.Uint64 }

// Inc adds 1.
func (c *Counter) Inc() { c.Add(1) }

// Add adds v, which must not be negative.
func (c *Counter) Add(v float64) {
	if v < 0 {
		panic("metrics: counter decreased")
	}
	for {
		old := c.bits.Load()
		if c.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// Value is the counter's current value.
func (c *Counter) Value() float64 { return math.Float64frombits(c.bits.Load()) }

// NewCounter registers a counter without labels.
func (r *Registry) NewCounter(name, help string) *Counter {
	c := &Counter{}
	r.register(name, &scalar{name: name, help: help, kind: "counter", value: c.Value})
	return c
}

// NewGaugeFunc registers a gauge whose value f gives when it is written.
func (r *Registry) NewGaugeFunc(name, help string, f func() float64) {
	r.register(name, &scalar{name: name, help: help, kind: "gauge", value: f})
}

// NewCounterFunc registers a counter whose value f gives when it is
// written (a total kept elsewhere).
func (r *Registry) NewCounterFunc(name, help string, f func() float64) {
	r.register(name, &scalar{name: name, help: help, kind: "counter", value: f})
}

// scalar is a family of one unlabelled sample.
type scalar struct {
	name, help, kind string
	value            func() float64
}

func (s *scalar) write(w *bufio.Writer) {
	header(w, s.name, s.help, s.kind)
	sample(w, s.name, "", s.value())
}

// Bounds of a CounterVec, whatever label values its callers pass (a
// server's label values can come from clients): at most MaxSeries
// combinations, each value at most MaxLabelBytes. Further combinations
// count in one series whose every label is OverflowLabel; longer values
// are cut.
const (
	MaxSeries     = 1000
	MaxLabelBytes = 128
	OverflowLabel = "_overflow"
)

// CounterVec is a counter per combination of label values, bounded in
// count and bytes (MaxSeries, MaxLabelBytes).
type CounterVec struct {
	name, help string
	labels     []string
	mu         sync.Mutex
	values     map[string]*labelled
}

type labelled struct {
	pairs string // name="value",... as written
	c     Counter
}

// NewCounterVec registers a counter family with the given label names.
func (r *Registry) NewCounterVec(name, help string, labels ...string) *CounterVec {
	v := &CounterVec{name: name, help: help, labels: labels, values: map[string]*labelled{}}
	r.register(name, v)
	return v
}

// WithLabelValues returns the counter of these label values, one per
// label name, in order: values are cut to MaxLabelBytes, and once the
// family holds MaxSeries combinations a new one gets the overflow series.
func (v *CounterVec) WithLabelValues(values ...string) *Counter {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("metrics: %s has %d labels, got %d values", v.name, len(v.labels), len(values)))
	}
	cut := false
	for i, s := range values {
		if len(s) > MaxLabelBytes {
			if !cut { // never write the caller's slice
				values, cut = slices.Clone(values), true
			}
			values[i] = strings.ToValidUTF8(s[:MaxLabelBytes], "")
		}
	}
	key := strings.Join(values, "\xff")
	v.mu.Lock()
	defer v.mu.Unlock()
	l, ok := v.values[key]
	if !ok && len(v.values) >= MaxSeries {
		values = make([]string, len(v.labels))
		for i := range values {
			values[i] = OverflowLabel
		}
		key = strings.Join(values, "\xff")
		l, ok = v.values[key]
	}
	if !ok {
		var b strings.Builder
		for i, n := range v.labels {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(n)
			b.WriteString(`="`)
			b.WriteString(escapeLabel(values[i]))
			b.WriteByte('"')
		}
		l = &labelled{pairs: b.String()}
		v.values[key] = l
	}
	return &l.c
}

func (v *CounterVec) write(w *bufio.Writer) {
	header(w, v.name, v.help, "counter")
	v.mu.Lock()
	ls := make([]*labelled, 0, len(v.values))
	for _, l := range v.values {
		ls = append(ls, l)
	}
	v.mu.Unlock()
	slices.SortFunc(ls, func(a, b *labelled) int { return strings.Compare(a.pairs, b.pairs) })
	for _, l := range ls {
		sample(w, v.name, l.pairs, l.c.Value())
	}
}

func header(w *bufio.Writer, name, help, kind string) {
	w.WriteString("# HELP " + name + " " + escapeHelp(help) + "\n")
	w.WriteString("# TYPE " + name + " " + kind + "\n")
}

func sample(w *bufio.Writer, name, pairs string, v float64) {
	w.WriteString(name)
	if pairs != "" {
		w.WriteString("{" + pairs + "}")
	}
	w.WriteByte(' ')
	w.WriteString(formatValue(v))
	w.WriteByte('\n')
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

func escapeHelp(s string) string { return helpEscaper.Replace(s) }

var labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
