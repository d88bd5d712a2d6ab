package faults

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
)

// caseRow is one case in huntdesk's database with its workflow.
type caseRow struct {
	Kind, ID, Status string
	Open             bool
	WorkflowID       string
	Started          bool // the recorded start is marked started
	Starts           int  // recorded starts (must be 1)
	WFStatus         enums.WorkflowExecutionStatus
}

// results is what the checks found; problems is empty when all is well.
type results struct {
	problems []string
	dups     []dup
	counts   map[string]int
	cases    []caseRow
	sla      []slaEvent
	emails   emailCounts
}

func (r *results) fail(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// dup is an email that arrived more than once.
type dup struct {
	ID, Event string
	At        []time.Time
}

type emailCounts struct {
	Expected, MustHave, Arrived, Duplicates, Missing, Unexpected, Unsent int
}

// slaEvent is one clock event of a case nobody touched: due then, fired then.
type slaEvent struct {
	Kind, ID, What string // what: warning, breach, reminder, escalation
	Due, Fired     time.Time
}

func (e slaEvent) late() time.Duration { return e.Fired.Sub(e.Due) }

// check reads the database, Temporal and the sink and checks every promise
// about cases, workflows and emails. It is called until it passes (the
// stack settles) or its deadline.
func check(ctx context.Context, s *stack, led *ledger) (*results, error) {
	r := &results{counts: map[string]int{}}
	if err := checkCases(ctx, s.db, led, r); err != nil {
		return nil, err
	}
	if err := checkWorkflows(ctx, s, r); err != nil {
		return nil, err
	}
	if err := checkEmails(ctx, s, r); err != nil {
		return nil, err
	}
	if err := readSLA(ctx, s.db, led, r); err != nil {
		return nil, err
	}
	return r, nil
}

// checkCases: every 2xx create has its case, each exactly once, and the
// tables hold no case the clients did not create.
func checkCases(ctx context.Context, db *sql.DB, led *ledger, r *results) error {
	led.mu.Lock()
	creates := append([]created(nil), led.creates...)
	led.mu.Unlock()
	byKind := map[string]int{}
	for _, c := range creates {
		byKind[c.Kind]++
		var q string
		var args []any
		switch {
		case c.Kind == "application":
			q, args = "SELECT count(*) FROM applications WHERE contact_name = $1", []any{"Contact " + c.Key}
		case c.Kind == "inquiry":
			q, args = "SELECT count(*) FROM inquiries WHERE context = $1", []any{"Is this device compromised? Marker " + c.Key}
		case c.Kind == "alert" && c.ID != "":
			q, args = "SELECT count(*) FROM alerts WHERE title = $1", []any{"Suspicious activity " + c.Key}
		default: // an ingested alert: org/external id
			org, ext, _ := strings.Cut(c.Key, "/")
			q, args = "SELECT count(*) FROM alerts WHERE org_id = $1 AND external_id = $2", []any{org, ext}
		}
		var n int
		if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			return err
		}
		if n != 1 {
			r.fail("%s %s (answered %d): %d rows", c.Kind, c.Key, c.Status, n)
		}
		if c.ID != "" {
			var id string
			err := db.QueryRowContext(ctx, "SELECT id FROM "+table(c.Kind)+" WHERE id = $1", c.ID).Scan(&id)
			if err != nil {
				r.fail("%s %s: the id answered (%s) is not in the database: %v", c.Kind, c.Key, c.ID, err)
			}
		}
	}
	for _, kind := range []string{"application", "inquiry", "alert"} {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+table(kind)).Scan(&n); err != nil {
			return err
		}
		r.counts[kind+" rows"] = n
		r.counts[kind+" 2xx"] = byKind[kind]
		if n != byKind[kind] {
			r.fail("%d %s rows for %d creates answered 2xx", n, kind, byKind[kind])
		}
	}
	return nil
}

func table(kind string) string {
	return map[string]string{"application": "applications", "inquiry": "inquiries", "alert": "alerts"}[kind]
}

// checkWorkflows: every case has one recorded start, marked started, and its
// workflow is running (an open case) or completed (a closed case, or an
// alert whose emails all went).
func checkWorkflows(ctx context.Context, s *stack, r *results) error {
	rows, err := s.db.QueryContext(ctx, `
		SELECT 'application', a.id, a.status, a.status = 'submitted', coalesce(max(w.workflow_id), ''), count(w.workflow_id), bool_and(w.started_at IS NOT NULL)
		  FROM applications a LEFT JOIN workflow_starts w ON w.entity = 'application' AND w.entity_id = a.id GROUP BY a.id, a.status
		UNION ALL
		SELECT 'inquiry', q.id, q.status, q.status IN ('submitted', 'in_progress', 'awaiting_customer'), coalesce(max(w.workflow_id), ''), count(w.workflow_id), bool_and(w.started_at IS NOT NULL)
		  FROM inquiries q LEFT JOIN workflow_starts w ON w.entity = 'inquiry' AND w.entity_id = q.id GROUP BY q.id, q.status
		UNION ALL
		SELECT 'alert', a.id, a.status, false, coalesce(max(w.workflow_id), ''), count(w.workflow_id), bool_and(w.started_at IS NOT NULL)
		  FROM alerts a LEFT JOIN workflow_starts w ON w.entity = 'alert' AND w.entity_id = a.id
		 -- an ingested alert no rule matched has nobody to email: no workflow, by design
		 WHERE a.external_id IS NULL OR EXISTS (SELECT 1 FROM alert_notifications n WHERE n.alert_id = a.id)
		 GROUP BY a.id, a.status`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c caseRow
		var started sql.NullBool
		if err := rows.Scan(&c.Kind, &c.ID, &c.Status, &c.Open, &c.WorkflowID, &c.Starts, &started); err != nil {
			return err
		}
		c.Started = started.Valid && started.Bool
		r.cases = append(r.cases, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range r.cases {
		c := &r.cases[i]
		if c.Starts != 1 {
			r.fail("%s %s (%s): %d recorded workflow starts", c.Kind, c.ID, c.Status, c.Starts)
			continue
		}
		if !c.Started {
			r.fail("%s %s (%s): its workflow start is still pending", c.Kind, c.ID, c.Status)
		}
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		d, err := s.tc.DescribeWorkflowExecution(dctx, c.WorkflowID, "")
		cancel()
		if err != nil {
			r.fail("%s %s (%s): describe %s: %v", c.Kind, c.ID, c.Status, c.WorkflowID, err)
			continue
		}
		c.WFStatus = d.GetWorkflowExecutionInfo().GetStatus()
		want := enums.WORKFLOW_EXECUTION_STATUS_COMPLETED
		if c.Open {
			want = enums.WORKFLOW_EXECUTION_STATUS_RUNNING
		}
		r.counts[c.Kind+" workflows "+strings.ToLower(strings.TrimPrefix(c.WFStatus.String(), "WORKFLOW_EXECUTION_STATUS_"))]++
		if c.WFStatus != want {
			r.fail("%s %s (%s): workflow %s is %s, want %s", c.Kind, c.ID, c.Status, c.WorkflowID, c.WFStatus, want)
		}
	}
	var pending, silent int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM workflow_starts WHERE started_at IS NULL").Scan(&pending); err != nil {
		return err
	}
	r.counts["pending starts"] = pending
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM alerts a WHERE a.external_id IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM alert_notifications n WHERE n.alert_id = a.id)
		AND NOT EXISTS (SELECT 1 FROM workflow_starts w WHERE w.entity = 'alert' AND w.entity_id = a.id)`).Scan(&silent)
	r.counts["alerts nobody to notify"] = silent
	return err
}

// checkEmails: every email a case must have was recorded in the outbox,
// every recorded email was sent, and each arrived at the sink exactly once
// (by Message-ID); nothing else arrived.
func checkEmails(ctx context.Context, s *stack, r *results) error {
	type key struct{ entity, event string }
	outbox := map[key]string{} // → message id
	status := map[string]string{}
	rows, err := s.db.QueryContext(ctx, "SELECT entity, event, message_id, status FROM outbox")
	if err != nil {
		return err
	}
	for rows.Next() {
		var k key
		var id, st string
		if err := rows.Scan(&k.entity, &k.event, &id, &st); err != nil {
			rows.Close()
			return err
		}
		outbox[k], status[id] = id, st
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	// What the cases' states say must have been emailed.
	must, err := mustHaveEmails(ctx, s.db)
	if err != nil {
		return err
	}
	for _, m := range must {
		if _, ok := outbox[key{m[0], m[1]}]; !ok {
			r.emails.Missing++
			if r.emails.Missing <= 10 {
				r.fail("email %s %s: never recorded in the outbox", m[0], m[1])
			}
		}
	}
	r.emails.MustHave = len(must)
	// Each clock event committed has its email (their events carry the SLA
	// period, so they are counted per inquiry).
	for action, prefix := range map[string]string{"sla_warned": "warning/", "sla_breached": "breach/"} {
		var n int
		err := s.db.QueryRowContext(ctx, `
			SELECT count(*) FROM
			  (SELECT entity_id AS id, count(*) AS n FROM audit_log WHERE entity = 'inquiry' AND action = $1 GROUP BY entity_id) a
			  FULL JOIN (SELECT substr(entity, 9) AS id, count(*) AS n FROM outbox WHERE entity LIKE 'inquiry/%' AND event LIKE $2 GROUP BY entity) o
			  ON a.id = o.id WHERE coalesce(a.n, 0) <> coalesce(o.n, 0)`, action, prefix+"%").Scan(&n)
		if err != nil {
			return err
		}
		if n > 0 {
			r.fail("%d inquiries whose %s events and %s emails differ in number", n, action, prefix)
		}
	}

	arrived := map[string]int{}
	got := map[string][]received{}
	for _, m := range s.sink.messages() {
		arrived[m.MessageID]++
		got[m.MessageID] = append(got[m.MessageID], m)
	}
	r.emails.Expected = len(status)
	for id, st := range status {
		n := arrived[id]
		if st != "sent" {
			r.emails.Unsent++
			if r.emails.Unsent <= 10 {
				r.fail("email %s: outbox status %s", id, st)
			}
		}
		switch {
		case n == 1:
			r.emails.Arrived++
		case n == 0:
			r.emails.Missing++
			if r.emails.Missing <= 10 {
				r.fail("email %s: never arrived", id)
			}
		default:
			r.emails.Arrived++
			r.emails.Duplicates += n - 1
			d := dup{ID: id, Event: got[id][0].Event}
			for _, m := range got[id] {
				d.At = append(d.At, m.At)
			}
			r.dups = append(r.dups, d) // judged against the faults (verdicts)
		}
	}
	for id := range arrived {
		if _, ok := status[id]; !ok {
			r.emails.Unexpected++
			r.fail("email %s arrived but is in no outbox", id)
		}
	}
	return nil
}

// mustHaveEmails lists (entity, event) pairs the cases' states require.
func mustHaveEmails(ctx context.Context, db *sql.DB) ([][2]string, error) {
	var out [][2]string
	queries := []string{
		`SELECT 'application/' || id, 'received/contact' FROM applications`,
		`SELECT 'application/' || id, 'approved/contact' FROM applications WHERE status = 'approved'`,
		`SELECT 'application/' || id, 'rejected/contact' FROM applications WHERE status = 'rejected'`,
		`SELECT 'application/' || id, 'review_reminder/managers' FROM applications WHERE reminder_sent_at IS NOT NULL`,
		`SELECT 'application/' || id, 'review_overdue/managers' FROM applications WHERE escalated_at IS NOT NULL`,
		`SELECT 'inquiry/' || id, 'ack/contact' FROM inquiries`,
		`SELECT 'inquiry/' || id, 'queued/experts' FROM inquiries`,
		`SELECT 'inquiry/' || inquiry_id, 'report/' || id || '/contact' FROM inquiry_messages WHERE kind = 'report' AND posted`,
		`SELECT 'inquiry/' || inquiry_id, 'response/' || id || '/assignee' FROM inquiry_messages WHERE kind = 'response' AND posted`,
		`SELECT 'inquiry/' || inquiry_id, 'sample/' || id || '/assignee' FROM samples WHERE attached`,
		`SELECT 'alert/' || alert_id, 'notify/' || recipient FROM alert_notifications`,
	}
	for _, q := range queries {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
		for rows.Next() {
			var p [2]string
			if err := rows.Scan(&p[0], &p[1]); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readSLA collects, for the cases nobody touched, when each clock event was
// due and when it fired (the workflow's time of the event, as committed).
func readSLA(ctx context.Context, db *sql.DB, led *ledger, r *results) error {
	alone := map[string]bool{}
	led.mu.Lock()
	for _, c := range led.creates {
		if c.LeftAlone {
			alone[c.ID] = true
		}
	}
	led.mu.Unlock()
	warnAt, remindAt := slaPeriod*3/4, slaPeriod*4/5
	rows, err := db.QueryContext(ctx, `
		SELECT 'inquiry', q.id, CASE a.action WHEN 'sla_warned' THEN 'warning' ELSE 'breach' END, q.created_at, a.at
		  FROM inquiries q JOIN audit_log a ON a.entity = 'inquiry' AND a.entity_id = q.id AND a.action IN ('sla_warned', 'sla_breached')
		UNION ALL
		SELECT 'application', id, 'reminder', created_at, reminder_sent_at FROM applications WHERE reminder_sent_at IS NOT NULL
		UNION ALL
		SELECT 'application', id, 'escalation', created_at, escalated_at FROM applications WHERE escalated_at IS NOT NULL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e slaEvent
		var created time.Time
		if err := rows.Scan(&e.Kind, &e.ID, &e.What, &created, &e.Fired); err != nil {
			return err
		}
		if !alone[e.ID] {
			continue // a case people worked on: its periods moved
		}
		switch e.What {
		case "warning":
			e.Due = created.Add(warnAt)
		case "reminder":
			e.Due = created.Add(remindAt)
		default:
			e.Due = created.Add(slaPeriod)
		}
		r.sla = append(r.sla, e)
	}
	sort.Slice(r.sla, func(i, j int) bool { return r.sla[i].Due.Before(r.sla[j].Due) })
	return rows.Err()
}
