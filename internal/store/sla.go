package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/huntdesk/huntdesk/models"
)

// SLATimers lists the clocks of every open inquiry and application, by due
// time (paused clocks last), keyset-paginated across both kinds: each kind is
// read in its own order from its own index and the two are merged.
func (db *DB) SLATimers(ctx context.Context, f models.SLATimerFilter) (models.List[models.SLATimer], error) {
	n := limitOf(f.Page)
	var after *cursor
	if f.Page.Cursor != "" {
		c, err := decodeCursor(f.Page.Cursor)
		if err != nil {
			return models.List[models.SLATimer]{}, err
		}
		if _, err := time.Parse(time.RFC3339Nano, c.Key); err != nil {
			return models.List[models.SLATimer]{}, badCursor()
		}
		after = &c
	}
	g := db.gorm.WithContext(ctx)
	var timers []timerRow
	if f.Kind == "" || f.Kind == "inquiry" {
		q := g.Table("inquiries").Select("'inquiry' AS kind, inquiries.id, inquiries.org_id, orgs.name AS org_name, inquiries.status, inquiries.assignee_id, " +
			"inquiries.due_at, inquiries.paused_at, inquiries.breached, inquiries.breach_count, inquiries.period, inquiries.queue_key AS sort_key").
			Joins("JOIN orgs ON orgs.id = inquiries.org_id").
			Where(openInquiries)
		q = timerFilter(q, "inquiries", f)
		switch f.State {
		case "running":
			q = q.Where("inquiries.status <> ? AND inquiries.breached = ?", models.InquiryAwaitingCustomer, false)
		case "paused":
			q = q.Where("inquiries.status = ?", models.InquiryAwaitingCustomer)
		case "breached":
			q = q.Where("inquiries.breached = ?", true)
		}
		rows, err := pageTimers(q, "inquiries.queue_key", "inquiries.id", after, n)
		if err != nil {
			return models.List[models.SLATimer]{}, err
		}
		timers = append(timers, rows...)
	}
	if (f.Kind == "" || f.Kind == "application") && f.AssigneeID == "" && f.State != "paused" {
		q := g.Table("applications").Select("'application' AS kind, applications.id, applications.org_id, orgs.name AS org_name, applications.status, "+
			"applications.review_due_at AS due_at, applications.escalated_at IS NOT NULL AS breached, "+
			"CASE WHEN applications.escalated_at IS NULL THEN 0 ELSE 1 END AS breach_count, 1 AS period, applications.review_due_at AS sort_key").
			Joins("JOIN orgs ON orgs.id = applications.org_id").
			Where("applications.status = ?", models.ApplicationSubmitted)
		q = timerFilter(q, "applications", f)
		switch f.State {
		case "running":
			q = q.Where("applications.escalated_at IS NULL")
		case "breached":
			q = q.Where("applications.escalated_at IS NOT NULL")
		}
		rows, err := pageTimers(q, "applications.review_due_at", "applications.id", after, n)
		if err != nil {
			return models.List[models.SLATimer]{}, err
		}
		timers = mergeTimers(timers, rows)
	}
	out := models.List[models.SLATimer]{Items: []models.SLATimer{}}
	now := db.Now()
	for i, r := range timers {
		if i == n {
			last := timers[n-1]
			out.NextCursor = encodeCursor(cursor{Key: last.SortKey.UTC().Format(time.RFC3339Nano), ID: last.ID})
			break
		}
		t := r.SLATimer
		if r.Status == string(models.InquiryAwaitingCustomer) {
			t.Paused, t.PausedSince, t.DueAt = true, r.PausedAt, nil
		}
		t.Fill(now)
		out.Items = append(out.Items, t)
	}
	return out, nil
}

// timerRow is a timer as read, with its sort key.
type timerRow struct {
	models.SLATimer
	PausedAt *time.Time
	SortKey  time.Time
}

func timerFilter(q *gorm.DB, table string, f models.SLATimerFilter) *gorm.DB {
	if f.OrgID != "" {
		q = q.Where(table+".org_id = ?", f.OrgID)
	}
	if f.AssigneeID != "" {
		q = q.Where(table+".assignee_id = ?", f.AssigneeID)
	}
	return q
}

// pageTimers reads at most n+1 timers of one kind after the cursor.
func pageTimers(q *gorm.DB, keyCol, idCol string, after *cursor, n int) ([]timerRow, error) {
	if after != nil {
		k, _ := time.Parse(time.RFC3339Nano, after.Key)
		q = q.Where("("+keyCol+", "+idCol+") > (?, ?)", k, after.ID) // a row comparison: one index range
	}
	var rows []timerRow
	err := q.Order(keyCol + ", " + idCol).Limit(n + 1).Scan(&rows).Error
	return rows, mapErr(err)
}

// mergeTimers merges two lists each sorted by (sort key, id).
func mergeTimers(a, b []timerRow) []timerRow {
	out := make([]timerRow, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if b[0].SortKey.Before(a[0].SortKey) || b[0].SortKey.Equal(a[0].SortKey) && b[0].ID < a[0].ID {
			out, b = append(out, b[0]), b[1:]
		} else {
			out, a = append(out, a[0]), a[1:]
		}
	}
	return append(append(out, a...), b...)
}

// Gauges are the business numbers /metrics shows, read in a few indexed
// aggregate queries.
type Gauges struct {
	Breaches      map[string]int            // kind → breaches recorded, ever (inquiry periods breached; applications escalated)
	Open          map[string]map[string]int // kind → status → open cases
	NextDue       map[string]*time.Time     // kind → earliest running due time
	OutboxPending int                       // emails not (yet) sent
}

// ReadGauges reads the business gauges.
func (db *DB) ReadGauges(ctx context.Context) (Gauges, error) {
	g := db.gorm.WithContext(ctx)
	out := Gauges{Breaches: map[string]int{}, Open: map[string]map[string]int{"inquiry": {}, "application": {}}, NextDue: map[string]*time.Time{}}
	var n struct{ N *int64 }
	if err := g.Table("inquiries").Select("SUM(breach_count) AS n").Scan(&n).Error; err != nil {
		return out, mapErr(err)
	}
	if n.N != nil {
		out.Breaches["inquiry"] = int(*n.N)
	}
	var esc int64
	if err := g.Table("applications").Where("escalated_at IS NOT NULL").Count(&esc).Error; err != nil {
		return out, mapErr(err)
	}
	out.Breaches["application"] = int(esc)
	open := []models.InquiryStatus{models.InquirySubmitted, models.InquiryInProgress, models.InquiryAwaitingCustomer}
	for kind, q := range map[string]*gorm.DB{
		"inquiry":     g.Table("inquiries").Where("status IN ?", open),
		"application": g.Table("applications").Where("status = ?", models.ApplicationSubmitted),
	} {
		var rows []struct {
			Status string
			N      int
		}
		if err := q.Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error; err != nil {
			return out, mapErr(err)
		}
		for _, r := range rows {
			out.Open[kind][r.Status] = r.N
		}
	}
	// The earliest due time, read as a column (ORDER BY … LIMIT 1, on the
	// index) rather than MIN(), which SQLite returns as text.
	var inq []models.Inquiry
	if err := g.Select("due_at").Where("status IN ? AND due_at IS NOT NULL", open[:2]).Order("due_at").Limit(1).Find(&inq).Error; err != nil {
		return out, mapErr(err)
	}
	if len(inq) == 1 {
		out.NextDue["inquiry"] = inq[0].DueAt
	}
	var apps []models.Application
	if err := g.Select("review_due_at").Where("status = ?", models.ApplicationSubmitted).Order("review_due_at").Limit(1).Find(&apps).Error; err != nil {
		return out, mapErr(err)
	}
	if len(apps) == 1 {
		out.NextDue["application"] = &apps[0].ReviewDueAt
	}
	var pending int64
	if err := g.Table("outbox").Where("status <> ?", "sent").Count(&pending).Error; err != nil {
		return out, mapErr(err)
	}
	out.OutboxPending = int(pending)
	return out, nil
}
