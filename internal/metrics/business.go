package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/huntdesk/huntdesk/internal/store"
)

// Business exports the business gauges read from the database. A scrape
// never waits on more than one refresh per interval: values are cached and
// re-read at most every Every, so scraping often costs the database nothing.
type Business struct {
	DB    *store.DB
	Every time.Duration // default 15 s
	Now   func() time.Time

	mu     sync.Mutex
	read   time.Time
	gauges store.Gauges

	breaches, open, nextDue, pending *prometheus.Desc
}

// NewBusiness returns the business collector; register it.
func NewBusiness(db *store.DB) *Business {
	return &Business{DB: db, Now: time.Now,
		breaches: prometheus.NewDesc("huntdesk_sla_breaches_total", "SLA breaches recorded: inquiry periods that ran out, applications whose review was escalated.", []string{"kind"}, nil),
		open:     prometheus.NewDesc("huntdesk_cases_open", "Open cases by kind and status.", []string{"kind", "status"}, nil),
		nextDue:  prometheus.NewDesc("huntdesk_sla_next_due_seconds", "Seconds until the earliest running SLA due time (negative when overdue); absent when none runs.", []string{"kind"}, nil),
		pending:  prometheus.NewDesc("huntdesk_outbox_pending", "Emails recorded in the outbox and not yet sent.", nil, nil),
	}
}

// Describe sends the four families.
func (b *Business) Describe(ch chan<- *prometheus.Desc) {
	ch <- b.breaches
	ch <- b.open
	ch <- b.nextDue
	ch <- b.pending
}

// Collect exports the cached gauges, re-reading them when stale.
func (b *Business) Collect(ch chan<- prometheus.Metric) {
	b.mu.Lock()
	every := b.Every
	if every <= 0 {
		every = 15 * time.Second
	}
	now := b.Now()
	if now.Sub(b.read) >= every {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		g, err := b.DB.ReadGauges(ctx)
		cancel()
		if err != nil {
			slog.Warn("read business metrics", "err", err)
		} else {
			b.gauges, b.read = g, now
		}
	}
	g := b.gauges
	b.mu.Unlock()
	for _, kind := range []string{"inquiry", "application"} {
		ch <- prometheus.MustNewConstMetric(b.breaches, prometheus.CounterValue, float64(g.Breaches[kind]), kind)
		for status, n := range g.Open[kind] {
			ch <- prometheus.MustNewConstMetric(b.open, prometheus.GaugeValue, float64(n), kind, status)
		}
		if due := g.NextDue[kind]; due != nil {
			ch <- prometheus.MustNewConstMetric(b.nextDue, prometheus.GaugeValue, due.Sub(now).Seconds(), kind)
		}
	}
	ch <- prometheus.MustNewConstMetric(b.pending, prometheus.GaugeValue, float64(g.OutboxPending))
}

// Emails counts the mailer's outcomes; pass Observe to mail.WithObserver.
type Emails struct{ vec *prometheus.CounterVec }

// NewEmails registers huntdesk_emails_total{template,result} on reg.
func NewEmails(reg prometheus.Registerer) *Emails {
	e := &Emails{vec: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "huntdesk_emails_total",
		Help: "Email delivery attempts by template and result (sent, skipped_duplicate, failed_temporary, failed_permanent)."}, []string{"template", "result"})}
	reg.MustRegister(e.vec)
	return e
}

// Observe records one outcome. Templates are the embedded ones and results
// a fixed set, so the series are bounded.
func (e *Emails) Observe(template, result string) { e.vec.WithLabelValues(template, result).Inc() }

// Vec is the counter vector (for tests).
func (e *Emails) Vec() *prometheus.CounterVec { return e.vec }
