package models

import "time"

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
