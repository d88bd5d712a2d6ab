// Package metrics exposes huntdesk's Prometheus metrics beyond HTTP: the
// Temporal SDK's own (through an SDK metrics handler on client_golang), the
// emails sent, and business gauges read from the database.
package metrics

import (
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// SDK is a client.MetricsHandler that keeps the Temporal SDK's counters,
// gauges and timers and hands them to Prometheus as a collector. The SDK
// tags a metric differently at different call sites (some with an activity
// type, some without); Prometheus wants one set of label names per metric, so
// a family's series are exported with the union of its label names, the
// missing ones empty (which Prometheus reads as absent). Label values are
// the SDK's: namespace, task queue, workflow and activity types, operation —
// a bounded set.
type SDK struct {
	*sdkState
	tags map[string]string
}

type sdkState struct {
	mu       sync.Mutex
	families map[string]*family
}

type family struct {
	kind   string // counter, gauge, timer
	series map[string]*series
}

type series struct {
	labels map[string]string
	value  float64  // counter, gauge
	counts []uint64 // timer: per bucket
	sum    float64
	n      uint64
}

// timerBuckets are the SDK timers' histogram buckets, in seconds.
var timerBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// NewSDK returns an SDK metrics handler; register it (it is a
// prometheus.Collector) and pass it as client.Options.MetricsHandler.
func NewSDK() *SDK {
	return &SDK{sdkState: &sdkState{families: map[string]*family{}}, tags: map[string]string{}}
}

var _ client.MetricsHandler = (*SDK)(nil)

// WithTags returns a handler whose metrics carry tags too.
func (h *SDK) WithTags(tags map[string]string) client.MetricsHandler {
	merged := make(map[string]string, len(h.tags)+len(tags))
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[sanitize(k)] = v
	}
	return &SDK{sdkState: h.sdkState, tags: merged}
}

// Counter, Gauge and Timer return the SDK's instruments.
func (h *SDK) Counter(name string) client.MetricsCounter {
	return counterFunc(func(d int64) { h.update(name, "counter", func(s *series) { s.value += float64(d) }) })
}

func (h *SDK) Gauge(name string) client.MetricsGauge {
	return gaugeFunc(func(v float64) { h.update(name, "gauge", func(s *series) { s.value = v }) })
}

func (h *SDK) Timer(name string) client.MetricsTimer {
	return timerFunc(func(d time.Duration) {
		sec := d.Seconds()
		h.update(name, "timer", func(s *series) {
			for i, b := range timerBuckets {
				if sec <= b {
					s.counts[i]++
				}
			}
			s.sum += sec
			s.n++
		})
	})
}

type counterFunc func(int64)

func (f counterFunc) Inc(d int64) { f(d) }

type gaugeFunc func(float64)

func (f gaugeFunc) Update(v float64) { f(v) }

type timerFunc func(time.Duration)

func (f timerFunc) Record(d time.Duration) { f(d) }

// update applies change to the series of name with this handler's tags,
// made if new, under the lock Collect takes too.
func (h *SDK) update(name, kind string, change func(*series)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	name = sanitize(name)
	if kind == "timer" {
		name += "_seconds"
	}
	f := h.families[name]
	if f == nil {
		f = &family{kind: kind, series: map[string]*series{}}
		h.families[name] = f
	}
	key := labelKey(h.tags)
	s := f.series[key]
	if s == nil {
		s = &series{labels: h.tags}
		if kind == "timer" {
			s.counts = make([]uint64, len(timerBuckets))
		}
		f.series[key] = s
	}
	change(s)
}

// Describe sends nothing: the families are known only once the SDK reports
// them (an unchecked collector).
func (h *SDK) Describe(chan<- *prometheus.Desc) {}

// Collect exports every family with one set of label names.
func (h *SDK) Collect(ch chan<- prometheus.Metric) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, f := range h.families {
		names := map[string]bool{}
		for _, s := range f.series {
			for k := range s.labels {
				names[k] = true
			}
		}
		labels := make([]string, 0, len(names))
		for k := range names {
			labels = append(labels, k)
		}
		sort.Strings(labels)
		desc := prometheus.NewDesc(name, "Temporal SDK metric "+name+".", labels, nil)
		for _, s := range f.series {
			vals := make([]string, len(labels))
			for i, k := range labels {
				vals[i] = s.labels[k]
			}
			switch f.kind {
			case "counter":
				ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, s.value, vals...)
			case "gauge":
				ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, s.value, vals...)
			case "timer":
				buckets := make(map[float64]uint64, len(timerBuckets))
				for i, b := range timerBuckets {
					buckets[b] = s.counts[i]
				}
				ch <- prometheus.MustNewConstHistogram(desc, s.n, s.sum, buckets, vals...)
			}
		}
	}
}

func labelKey(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "\x00" + tags[k] + "\x00")
	}
	return b.String()
}

// sanitize makes a name a valid Prometheus name.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == ':' {
			return r
		}
		return '_'
	}, s)
}
