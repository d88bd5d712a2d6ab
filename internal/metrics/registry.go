package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/huntdesk/huntdesk/internal/store"
)

// Set is one process's metrics: its registry with the Go and process
// collectors, the business gauges, the emails counter and the Temporal SDK
// handler (pass SDK to the Temporal client, Emails.Observe to the mailer).
type Set struct {
	Registry *prometheus.Registry
	SDK      *SDK
	Emails   *Emails
}

// New builds a process's metrics over db.
func New(db *store.DB) *Set {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Set{Registry: reg, SDK: NewSDK(), Emails: NewEmails(reg)}
	reg.MustRegister(NewBusiness(db), s.SDK)
	return s
}
