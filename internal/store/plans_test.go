package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/huntdesk/huntdesk/internal/cases"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

// statement is one SQL statement a store call ran, with its arguments.
type statement struct {
	sql  string
	args []any
}

// captured runs fn and returns the statements GORM sent meanwhile.
func captured(t *testing.T, db *store.DB, fn func() error) []statement {
	t.Helper()
	var got []statement
	var on atomic.Bool
	rec := func(tx *gorm.DB) {
		if on.Load() && tx.Statement.SQL.Len() > 0 {
			got = append(got, statement{tx.Statement.SQL.String(), append([]any(nil), tx.Statement.Vars...)})
		}
	}
	cb := db.Gorm().Callback()
	name := fmt.Sprintf("test:capture_%p", &got)
	for _, err := range []error{cb.Query().After("gorm:query").Register(name, rec), cb.Raw().After("gorm:raw").Register(name, rec),
		cb.Row().After("gorm:row").Register(name, rec)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { cb.Query().Remove(name); cb.Raw().Remove(name); cb.Row().Remove(name) })
	on.Store(true)
	err := fn()
	on.Store(false)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// planNode is a node of EXPLAIN (FORMAT JSON).
type planNode struct {
	Type     string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Index    string     `json:"Index Name"`
	Plans    []planNode `json:"Plans"`
}

// TestEveryListUsesAnIndex: on PostgreSQL, with tables large enough for the
// planner to prefer an index when one serves (100,000 inquiries, alerts and
// audit entries over 200 orgs), EXPLAIN every list query the API and the
// console serve and fail on a sequential scan of a big table.
func TestEveryListUsesAnIndex(t *testing.T) {
	db := storetest.Open(t)
	if db.Dialect() != "postgres" {
		t.Skip("plans are PostgreSQL's: run with DATABASE_URL (CI does)")
	}
	ctx := context.Background()
	g := db.Gorm().WithContext(ctx)
	const rows = 100_000
	for _, stmt := range []string{
		`INSERT INTO orgs (id, name, kind, devices_enrolled, plan, ean_state, ean_visible, ean_enabled, created_at, updated_at)
		 SELECT 'org_' || lpad(i::text, 32, '0'), 'Org ' || i, 'customer', 10, 'full', 'approved', true, true, now(), now() FROM generate_series(1, 200) i`,
		`INSERT INTO users (id, org_id, email, name, role, created_at, updated_at)
		 SELECT 'usr_' || lpad(i::text, 32, '0'), 'org_' || lpad((i % 200 + 1)::text, 32, '0'), 'u' || i || '@x.example', 'U', 'customer_admin', now(), now() FROM generate_series(1, 2000) i`,
		fmt.Sprintf(`INSERT INTO inquiries (id, org_id, submitted_by, topic_url, topic_kind, topic_group, context, contact_email, subscription, status,
		   assignee_id, due_at, breached, breach_count, queue_key, first_report_at, closed_at, created_at, updated_at, period)
		 SELECT 'inq_' || lpad(i::text, 32, '0'), 'org_' || lpad((i %% 200 + 1)::text, 32, '0'), 'usr_1', 'https://security.microsoft.com/alerts/' || i, 'alert',
		   'alert_information', 'Twenty characters of context.', 'soc@x.example', 'full',
		   (ARRAY['concluded','concluded','concluded','concluded','concluded','concluded','concluded','submitted','in_progress','awaiting_customer'])[i %% 10 + 1],
		   CASE WHEN i %% 10 = 7 THEN NULL ELSE 'usr_expert' END, now() + interval '1 hour' * (i %% 48), false, 0,
		   CASE WHEN i %% 10 IN (7, 8) THEN now() + interval '1 hour' * (i %% 48) ELSE '9999-01-01' END,
		   now() - interval '1 minute' * i + interval '2 hours', NULL, now() - interval '1 minute' * i, now(), 1 FROM generate_series(1, %d) i`, rows),
		fmt.Sprintf(`INSERT INTO incidents (id, org_id, title, status, severity, severity_rank, alert_count, resolved_alerts, created_at, updated_at)
		 SELECT 'inc_' || lpad(i::text, 32, '0'), 'org_' || lpad((i %% 200 + 1)::text, 32, '0'), 'Incident', 'active',
		   (ARRAY['informational','low','medium','high'])[i %% 4 + 1], i %% 4, 5, 0, now() - interval '5 minutes' * i, now() FROM generate_series(1, %d) i`, rows/5),
		fmt.Sprintf(`INSERT INTO alerts (id, org_id, incident_id, title, description, severity, severity_rank, status, category, service_source, detection_source,
		   recommended_actions, raised_by, created_at, updated_at)
		 SELECT 'alr_' || lpad(i::text, 32, '0'), 'org_' || lpad(((i / 5) %% 200 + 1)::text, 32, '0'), 'inc_' || lpad((i / 5 + 1)::text, 32, '0'), 'Alert', 'd',
		   (ARRAY['informational','low','medium','high'])[(i / 5) %% 4 + 1], (i / 5) %% 4, 'new', 'Execution', 'microsoftDefenderForEndpoint', 'microsoftDefenderForEndpoint',
		   'r', 'usr_expert', now() - interval '1 minute' * i, now() FROM generate_series(1, %d) i`, rows-5),
		fmt.Sprintf(`INSERT INTO audit_log (id, at, actor_id, actor_role, org_id, entity, entity_id, action, data)
		 SELECT 'aud_' || lpad(i::text, 32, '0'), now() - interval '1 minute' * i, 'usr_' || lpad((i %% 2000 + 1)::text, 32, '0'), 'expert',
		   'org_' || lpad((i %% 200 + 1)::text, 32, '0'), 'inquiry', 'inq_' || lpad(i::text, 32, '0'), 'reported', '{"category":"concluded"}' FROM generate_series(1, %d) i`, rows),
		"ANALYZE",
	} {
		if err := g.Exec(stmt).Error; err != nil {
			t.Fatalf("load: %v\n%s", err, stmt)
		}
	}
	org := "org_" + strings.Repeat("0", 31) + "8"
	expert := models.Principal{UserID: "usr_expert", Role: models.RoleExpert}
	customer := models.Principal{UserID: "usr_" + strings.Repeat("0", 31) + "8", OrgID: org, Role: models.RoleCustomerAdmin}
	alerts := &cases.Alerts{DB: db}
	page := models.Page{Limit: 50}
	// A cursor deep in the queue, as the 20th page would send it.
	var cursor string
	for range 20 {
		l, err := db.Inquiries(ctx, models.InquiryFilter{OpenOnly: true, Page: models.Page{Limit: 50, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		cursor = l.NextCursor
	}
	since := time.Now().UTC().AddDate(0, 0, -7).Format(time.RFC3339)
	from := time.Now().UTC().AddDate(0, 0, -3)
	to := from.AddDate(0, 0, 1)
	lists := map[string]func() error{
		"GET /queue": func() error {
			_, err := db.Inquiries(ctx, models.InquiryFilter{OpenOnly: true, Page: page})
			return err
		},
		"GET /queue (20th page)": func() error {
			_, err := db.Inquiries(ctx, models.InquiryFilter{OpenOnly: true, Page: models.Page{Limit: 50, Cursor: cursor}})
			return err
		},
		"GET /queue?topic_group": func() error {
			_, err := db.Inquiries(ctx, models.InquiryFilter{OpenOnly: true, TopicGroup: models.GroupAlertInformation, Page: page})
			return err
		},
		"GET /queue?org_id": func() error {
			_, err := db.Inquiries(ctx, models.InquiryFilter{OpenOnly: true, OrgID: org, Page: page})
			return err
		},
		"GET /inquiries (customer)": func() error {
			_, err := db.Inquiries(ctx, models.InquiryFilter{OrgID: customer.OrgID, Page: page})
			return err
		},
		"GET /inquiries (staff)": func() error {
			_, err := db.Inquiries(ctx, models.InquiryFilter{Page: page})
			return err
		},
		"GET /sla/timers": func() error {
			_, err := db.SLATimers(ctx, models.SLATimerFilter{Page: page})
			return err
		},
		"GET /reports/sla (a day)": func() error {
			_, err := db.SLAReport(ctx, from, to, "")
			return err
		},
		"GET /alerts?$filter&$orderby (expert)": func() error {
			_, err := alerts.List(ctx, expert, url.Values{"$filter": {"severity eq 'high' and createdDateTime gt " + since}, "$orderby": {"createdDateTime desc"}, "$top": {"50"}})
			return err
		},
		"GET /alerts (customer)": func() error {
			_, err := alerts.List(ctx, customer, url.Values{"$top": {"50"}})
			return err
		},
		"GET /incidents (customer)": func() error {
			_, err := alerts.Incidents(ctx, customer, url.Values{"$top": {"50"}})
			return err
		},
		"GET /audit?org_id": func() error {
			_, err := db.Audit(ctx, models.AuditFilter{OrgID: org, Page: page})
			return err
		},
		"GET /audit?entity_id": func() error {
			_, err := db.Audit(ctx, models.AuditFilter{Entity: "inquiry", EntityID: "inq_" + strings.Repeat("0", 31) + "9", Page: page})
			return err
		},
		"GET /audit?actor_id": func() error {
			_, err := db.Audit(ctx, models.AuditFilter{ActorID: customer.UserID, Page: page})
			return err
		},
		"GET /audit": func() error {
			_, err := db.Audit(ctx, models.AuditFilter{Page: page})
			return err
		},
		"GET /users?org_id": func() error {
			_, err := db.Users(ctx, org, page)
			return err
		},
	}
	big := map[string]bool{"inquiries": true, "alerts": true, "incidents": true, "audit_log": true, "users": true}
	// The SLA report aggregates a whole period: reading the log for a large
	// share of a table, a sequential scan is the cheaper plan and the
	// planner's right choice; its plans are logged, not judged.
	aggregates := map[string]bool{"GET /reports/sla (a day)": true}
	for name, list := range lists {
		for _, s := range captured(t, db, list) {
			var raw string
			if err := g.Raw("EXPLAIN (FORMAT JSON) "+s.sql, s.args...).Row().Scan(&raw); err != nil {
				t.Fatalf("%s: explain: %v\n%s", name, err, s.sql)
			}
			var doc []struct{ Plan planNode }
			if err := json.Unmarshal([]byte(raw), &doc); err != nil {
				t.Fatal(err)
			}
			var scans []string
			var walk func(n planNode)
			walk = func(n planNode) {
				if strings.HasSuffix(n.Type, "Scan") && n.Relation != "" {
					scans = append(scans, strings.TrimSpace(n.Type+" "+n.Index+" on "+n.Relation))
					if n.Type == "Seq Scan" && big[n.Relation] && !aggregates[name] {
						t.Errorf("%s: a sequential scan of %s:\n%s", name, n.Relation, s.sql)
					}
				}
				for _, c := range n.Plans {
					walk(c)
				}
			}
			walk(doc[0].Plan)
			t.Logf("%s: %s", name, strings.Join(scans, "; "))
		}
	}
}

// TestListsRunAsManyStatementsForOneRowAsForFifty: no N+1 — a page of 50
// rows with children (alerts with devices and tags; incidents;
// inquiries) costs the same number of statements as a page of one.
func TestListsRunAsManyStatementsForOneRowAsForFifty(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	devices := 5
	name := "Contoso"
	o, err := db.CreateOrg(ctx, models.System, models.OrgCustomer, models.OrgInput{Name: &name, DevicesEnrolled: &devices, Subscription: &models.Subscription{Plan: models.PlanFull}})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := db.CreateUser(ctx, models.System, models.UserInput{OrgID: o.ID, Email: "a@contoso.example", Name: "A", Role: models.RoleCustomerAdmin})
	if err != nil {
		t.Fatal(err)
	}
	customer := models.Principal{UserID: admin.ID, OrgID: o.ID, Role: models.RoleCustomerAdmin}
	expert := models.Principal{UserID: "usr_expert", Role: models.RoleExpert}
	yes := true // enrolled for attack notifications, as an approval records it
	app, _, err := db.CreateApplication(ctx, customer, models.ApplicationInput{ContactName: "C", ContactEmail: "c@contoso.example", AcceptPrivacyStatement: &yes}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DecideApplication(ctx, app.ID, models.ApplicationApproved, models.Principal{UserID: "usr_manager", Role: models.RoleManager}, "", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	in := models.InquiryInput{TopicURL: "https://security.microsoft.com/alerts/1", Context: "Twenty characters of context here.", ContactEmail: "a@contoso.example"}
	kind, _ := in.Validate()
	for i := range 60 {
		if _, err := db.CreateInquiry(ctx, customer, in, kind, time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RaiseAlert(ctx, expert, store.NewAlert{AlertInput: models.AlertInput{OrgID: o.ID, Title: fmt.Sprintf("Alert %d", i), Severity: models.SeverityHigh,
			Category: "Execution", Devices: []models.AlertDevice{{ID: "d1", Name: "n1"}, {ID: "d2", Name: "n2"}}}, Tags: []string{"lolbin"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	alerts := &cases.Alerts{DB: db}
	lists := map[string]func(n int) error{
		"alerts": func(n int) error {
			_, err := alerts.List(ctx, customer, url.Values{"$top": {fmt.Sprint(n)}})
			return err
		},
		"incidents": func(n int) error {
			_, err := alerts.Incidents(ctx, customer, url.Values{"$top": {fmt.Sprint(n)}})
			return err
		},
		"inquiries": func(n int) error {
			_, err := db.Inquiries(ctx, models.InquiryFilter{OrgID: o.ID, Page: models.Page{Limit: n}})
			return err
		},
		"queue": func(n int) error {
			_, err := db.Inquiries(ctx, models.InquiryFilter{OpenOnly: true, Page: models.Page{Limit: n}})
			return err
		},
		"sla timers": func(n int) error {
			_, err := db.SLATimers(ctx, models.SLATimerFilter{Page: models.Page{Limit: n}})
			return err
		},
		"audit": func(n int) error {
			_, err := db.Audit(ctx, models.AuditFilter{OrgID: o.ID, Page: models.Page{Limit: n}})
			return err
		},
	}
	for name, list := range lists {
		one := len(captured(t, db, func() error { return list(1) }))
		fifty := len(captured(t, db, func() error { return list(50) }))
		if one == 0 || fifty != one {
			t.Errorf("%s: %d statements for one row, %d for fifty", name, one, fifty)
		}
	}
}
