package store

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/huntdesk/huntdesk/models"
)

// SLAReport computes the SLA report for inquiries opened in [from, to) and
// applications decided in it (of one org, or all). The numbers come from the
// read model and the audit log; percentiles are computed here, in Go, the
// same on both dialects.
func (db *DB) SLAReport(ctx context.Context, from, to time.Time, orgID string) (*models.SLAReport, error) {
	g := db.gorm.WithContext(ctx)
	rep := &models.SLAReport{From: from.UTC(), To: to.UTC(), OrgID: orgID, Experts: []models.ExpertStats{}, Orgs: []models.OrgStats{}}

	// The period's inquiries, as a condition the other reads join on: one
	// statement each, however many inquiries the month has.
	opened := func(q *gorm.DB) *gorm.DB {
		q = q.Where("inquiries.created_at >= ? AND inquiries.created_at < ?", from.UTC(), to.UTC())
		if orgID != "" {
			q = q.Where("inquiries.org_id = ?", orgID)
		}
		return q
	}
	// Scanned into a lean row, not models.Inquiry: a month can hold tens of
	// thousands of inquiries, and GORM's reflection per row was most of the
	// report's time (huntdesk bench).
	type row struct {
		OrgID                   string
		AssigneeID              *string
		Status                  models.InquiryStatus
		BreachCount             int
		FirstReportAt, ClosedAt *time.Time
		CreatedAt               time.Time
	}
	var inqs []row
	rows, err := opened(g.Table("inquiries").Select("org_id", "assignee_id", "status", "breach_count", "first_report_at", "closed_at", "created_at")).Rows()
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var x row
		if err := rows.Scan(&x.OrgID, &x.AssigneeID, &x.Status, &x.BreachCount, &x.FirstReportAt, &x.ClosedAt, &x.CreatedAt); err != nil {
			return nil, mapErr(err)
		}
		inqs = append(inqs, x)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(err)
	}

	st := &rep.Inquiries
	st.Opened = len(inqs)
	var first, concl []time.Duration
	type acc struct {
		opened, open, concluded, breaches int
		first                             []time.Duration
	}
	experts, orgs := map[string]*acc{}, map[string]*acc{}
	get := func(m map[string]*acc, k string) *acc {
		if m[k] == nil {
			m[k] = &acc{}
		}
		return m[k]
	}
	for _, x := range inqs {
		st.Breaches += x.BreachCount
		if x.BreachCount > 0 {
			st.Breached++
		}
		o := get(orgs, x.OrgID)
		o.opened++
		o.breaches += x.BreachCount
		var e *acc
		if x.AssigneeID != nil {
			e = get(experts, *x.AssigneeID)
			e.breaches += x.BreachCount
			if x.Status.Open() {
				e.open++
			}
			if x.Status == models.InquiryConcluded {
				e.concluded++
			}
		}
		if x.FirstReportAt != nil {
			d := x.FirstReportAt.Sub(x.CreatedAt)
			first = append(first, d)
			o.first = append(o.first, d)
			if e != nil {
				e.first = append(e.first, d)
			}
		}
		if x.Status == models.InquiryConcluded && x.ClosedAt != nil {
			concl = append(concl, x.ClosedAt.Sub(x.CreatedAt))
		}
	}
	if st.Opened > 0 {
		r := float64(st.Breached) / float64(st.Opened)
		st.BreachRate = &r
	}
	st.FirstReport, st.Conclusion = models.Summarize(first), models.Summarize(concl)

	// Reports sent, and how long customers took to answer, from the log.
	var waits []time.Duration
	{
		var n int64
		if err := opened(g.Table("inquiry_messages").Joins("JOIN inquiries ON inquiries.id = inquiry_messages.inquiry_id")).
			Where("inquiry_messages.kind = ? AND inquiry_messages.posted = ?", "report", true).Count(&n).Error; err != nil {
			return nil, mapErr(err)
		}
		st.ReportsSent = int(n)
		var events []models.AuditEntry
		if err := opened(g.Table("audit_log").Select("audit_log.*").Joins("JOIN inquiries ON inquiries.id = audit_log.entity_id")).
			Where("audit_log.entity = ? AND audit_log.action IN ?", "inquiry", []string{"reported", "responded", "sample_added"}).
			Order("audit_log.entity_id, audit_log.at, audit_log.id").Find(&events).Error; err != nil {
			return nil, mapErr(err)
		}
		var waitingSince *time.Time
		current := ""
		for _, ev := range events {
			if ev.EntityID != current {
				current, waitingSince = ev.EntityID, nil
			}
			switch ev.Action {
			case "reported":
				var d struct{ Category models.ReportCategory }
				_ = json.Unmarshal(ev.Data, &d)
				if d.Category.AwaitsCustomer() {
					at := ev.At
					waitingSince = &at
					st.AnswersAwaited++
				}
			default:
				if waitingSince != nil {
					waits = append(waits, ev.At.Sub(*waitingSince))
					waitingSince = nil
				}
			}
		}
	}
	st.CustomerWait = models.Summarize(waits)

	median := func(ds []time.Duration) *float64 { return models.Summarize(ds).P50 }
	emails, names := map[string]string{}, map[string]string{}
	var users []models.User
	if err := g.Select("id", "email").Where("id IN ?", append(keysOf(experts), "")).Find(&users).Error; err != nil {
		return nil, mapErr(err)
	}
	for _, u := range users {
		emails[u.ID] = u.Email
	}
	var os []models.Org
	if err := g.Select("id", "name").Where("id IN ?", append(keysOf(orgs), "")).Find(&os).Error; err != nil {
		return nil, mapErr(err)
	}
	for _, o := range os {
		names[o.ID] = o.Name
	}
	for _, id := range keysOf(experts) {
		a := experts[id]
		rep.Experts = append(rep.Experts, models.ExpertStats{UserID: id, Email: emails[id], Open: a.open, Concluded: a.concluded, Breaches: a.breaches, FirstReport: median(a.first)})
	}
	for _, id := range keysOf(orgs) {
		a := orgs[id]
		rep.Orgs = append(rep.Orgs, models.OrgStats{OrgID: id, Name: names[id], Opened: a.opened, Breaches: a.breaches, FirstReport: median(a.first)})
	}

	var apps []models.Application
	aq := g.Select("id", "review_due_at", "decided_at", "created_at").
		Where("decided_at >= ? AND decided_at < ? AND status IN ?", from.UTC(), to.UTC(), []models.ApplicationStatus{models.ApplicationApproved, models.ApplicationRejected})
	if orgID != "" {
		aq = aq.Where("org_id = ?", orgID)
	}
	if err := aq.Find(&apps).Error; err != nil {
		return nil, mapErr(err)
	}
	var decide []time.Duration
	for _, a := range apps {
		rep.Applications.Decided++
		if a.DecidedAt.After(a.ReviewDueAt) {
			rep.Applications.DecidedLate++
		}
		decide = append(decide, a.DecidedAt.Sub(a.CreatedAt))
	}
	rep.Applications.ToDecision = models.Summarize(decide)
	return rep, nil
}

// keysOf returns a map's keys, sorted.
func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
