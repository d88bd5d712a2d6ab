package models

import (
	"slices"
	"time"
)

// SLATimer is one open case's SLA clock as managers audit it: an inquiry's
// progress-report clock or an application's review clock. It is the read
// model, i.e. what the case's workflow committed.
type SLATimer struct {
	Kind        string     `json:"kind"` // inquiry or application
	ID          string     `json:"id"`
	OrgID       string     `json:"org_id"`
	OrgName     string     `json:"org_name"`
	Status      string     `json:"status"`
	AssigneeID  *string    `json:"assignee_id"`
	DueAt       *time.Time `json:"due_at"` // nil while paused
	TimeLeft    *string    `json:"time_left"`
	Seconds     *int64     `json:"time_left_seconds"` // negative once overdue
	Paused      bool       `json:"paused"`
	PausedSince *time.Time `json:"paused_since"`
	Breached    bool       `json:"breached"`
	BreachCount int        `json:"breach_count"`
	Period      int        `json:"period"` // inquiries: the SLA period (1 at submission); applications: 1
}

// Fill computes the time left at now.
func (t *SLATimer) Fill(now time.Time) {
	if t.DueAt != nil && !t.Paused {
		d := t.DueAt.Sub(now).Truncate(time.Second)
		s, n := d.String(), int64(d.Seconds())
		t.TimeLeft, t.Seconds = &s, &n
	}
}

// SLATimerFilter selects timers; zero fields match everything.
type SLATimerFilter struct {
	Kind       string // inquiry, application
	State      string // running, paused, breached
	OrgID      string
	AssigneeID string
	Page
}

// SLAKinds and SLAStates are the filter's values.
var (
	SLAKinds  = []string{"inquiry", "application"}
	SLAStates = []string{"running", "paused", "breached"}
)

// Validate checks the filter's values.
func (f SLATimerFilter) Validate() error {
	var v Validation
	v.Check(f.Kind == "" || oneOf(f.Kind, SLAKinds), "kind", "must be inquiry or application")
	v.Check(f.State == "" || oneOf(f.State, SLAStates), "state", "must be running, paused or breached")
	v.Line("org_id", f.OrgID)
	v.Line("assignee_id", f.AssigneeID)
	return v.Err()
}

// Durations summarises a set of durations, in seconds. Percentiles are
// nearest-rank: the p-th percentile of n sorted values is the value at rank
// ceil(p/100 × n) (1-based), so it is always one of the values; with no value
// every field is null.
type Durations struct {
	N   int      `json:"n"`
	P50 *float64 `json:"p50_seconds"`
	P90 *float64 `json:"p90_seconds"`
	Max *float64 `json:"max_seconds"`
}

// Summarize computes a Durations (the slice is sorted in place).
func Summarize(ds []time.Duration) Durations {
	out := Durations{N: len(ds)}
	if len(ds) == 0 {
		return out
	}
	slices.Sort(ds)
	at := func(p int) *float64 {
		rank := (p*len(ds) + 99) / 100 // ceil(p/100 × n)
		if rank < 1 {
			rank = 1
		}
		v := ds[rank-1].Seconds()
		return &v
	}
	out.P50, out.P90 = at(50), at(90)
	m := ds[len(ds)-1].Seconds()
	out.Max = &m
	return out
}

// SLAReport is the SLA report over a period: inquiries opened in [From, To)
// and applications decided in it.
type SLAReport struct {
	From         time.Time         `json:"from"`
	To           time.Time         `json:"to"`
	OrgID        string            `json:"org_id,omitempty"`
	Inquiries    InquiryStats      `json:"inquiries"`
	Experts      []ExpertStats     `json:"experts"`
	Orgs         []OrgStats        `json:"orgs"`
	Applications ApplicationsStats `json:"applications"`
}

// InquiryStats is the inquiries' part of the SLA report.
type InquiryStats struct {
	Opened         int       `json:"opened"`
	ReportsSent    int       `json:"progress_reports_sent"`
	Breaches       int       `json:"breaches"`
	Breached       int       `json:"inquiries_breached"`
	BreachRate     *float64  `json:"breach_rate"` // breached / opened; null when none opened
	FirstReport    Durations `json:"time_to_first_report"`
	Conclusion     Durations `json:"time_to_conclusion"`
	AnswersAwaited int       `json:"answers_awaited"`
	CustomerWait   Durations `json:"customer_wait"`
}

// ExpertStats is one expert's row.
type ExpertStats struct {
	UserID      string   `json:"user_id"`
	Email       string   `json:"email"`
	Open        int      `json:"open"`
	Concluded   int      `json:"concluded"`
	Breaches    int      `json:"breaches"`
	FirstReport *float64 `json:"median_first_report_seconds"`
}

// OrgStats is one org's row.
type OrgStats struct {
	OrgID       string   `json:"org_id"`
	Name        string   `json:"name"`
	Opened      int      `json:"opened"`
	Breaches    int      `json:"breaches"`
	FirstReport *float64 `json:"median_first_report_seconds"`
}

// ApplicationsStats is the applications' part.
type ApplicationsStats struct {
	Decided     int       `json:"decided"`
	DecidedLate int       `json:"decided_late"`
	ToDecision  Durations `json:"time_to_decision"`
}
