package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"gorm.io/gorm"

	"github.com/huntdesk/huntdesk/internal/cases"
	"github.com/huntdesk/huntdesk/internal/dev/procs"
	"github.com/huntdesk/huntdesk/models"
)

// LoadStats says what the reads ran on.
type LoadStats struct {
	Inquiries int     `json:"inquiries"`
	Alerts    int     `json:"alerts"`
	Incidents int     `json:"incidents"`
	Orgs      int     `json:"orgs"`
	Seconds   float64 `json:"seconds"` // COPY and ANALYZE
}

// load bulk-loads Rows inquiries and Rows alerts (with their incidents and
// devices) across Orgs customer orgs with COPY, then ANALYZEs. Ids embed
// their creation time, as huntdesk's (UUIDv7) do, so keyset pages by id
// behave as in production.
func load(ctx context.Context, st *stack, cfg Config) (LoadStats, error) {
	t0 := time.Now()
	conn, err := pgx.Connect(ctx, st.dbURL)
	if err != nil {
		return LoadStats{}, err
	}
	defer conn.Close(ctx)
	now := time.Now().UTC().Truncate(time.Second)
	orgs := make([]string, cfg.Orgs)
	for i := range orgs {
		orgs[i] = fmt.Sprintf("org_%012x%020x", now.UnixMilli(), i+1)
	}
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"orgs"}, []string{"id", "name", "kind", "devices_enrolled", "plan", "trial_allowance", "ean_state", "ean_visible", "ean_enabled", "created_at", "updated_at"},
		rowsOf(len(orgs), func(i int) []any {
			return []any{orgs[i], fmt.Sprintf("Loaded %04d", i), "customer", 500, "full", 0, "approved", true, true, now, now}
		}))
	if err != nil {
		return LoadStats{}, fmt.Errorf("orgs: %w", err)
	}
	span := 365 * 24 * time.Hour // a year of history: about 83,000 inquiries a month at 1M
	at := func(i int) time.Time { return now.Add(-span + time.Duration(int64(span)/int64(cfg.Rows)*int64(i))) }
	id := func(prefix string, i int, t time.Time) string {
		return fmt.Sprintf("%s_%012x%020x", prefix, t.UnixMilli(), i)
	}
	statuses := []string{"concluded", "concluded", "concluded", "concluded", "concluded", "concluded", "concluded", "submitted", "in_progress", "awaiting_customer"}
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"inquiries"},
		[]string{"id", "org_id", "submitted_by", "topic_url", "topic_kind", "topic_group", "context", "contact_email", "subscription", "status",
			"assignee_id", "due_at", "paused_at", "breached", "breach_count", "queue_key", "first_report_at", "closed_at", "created_at", "updated_at", "period"},
		rowsOf(cfg.Rows, func(i int) []any {
			t := at(i)
			status := statuses[i%len(statuses)]
			var assignee, due, paused, first, closed any
			queue := far
			switch status {
			case "concluded":
				assignee, first, closed = "usr_expert", t.Add(3*time.Hour), t.Add(20*time.Hour)
			case "submitted":
				due, queue = t.Add(48*time.Hour), t.Add(48*time.Hour)
			case "in_progress":
				assignee, due, queue = "usr_expert", t.Add(48*time.Hour), t.Add(48*time.Hour)
			case "awaiting_customer":
				assignee, first, paused = "usr_expert", t.Add(2*time.Hour), t.Add(2*time.Hour)
			}
			return []any{id("inq", i, t), orgs[i%len(orgs)], "usr_admin", "https://security.microsoft.com/machines/host-" + strconv.Itoa(i%5000) + "/overview", "device",
				"possible_device_compromise", "Outbound connections at 3 am from a finance laptop; compromised?", "soc@customer.example", "full", status,
				assignee, due, paused, i%17 == 0, i % 17 / 16, queue, first, closed, t, t, 1}
		}))
	if err != nil {
		return LoadStats{}, fmt.Errorf("inquiries: %w", err)
	}
	incidents := cfg.Rows / 5
	sev := []string{"informational", "low", "medium", "high"}
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"incidents"}, []string{"id", "org_id", "title", "status", "severity", "severity_rank", "alert_count", "resolved_alerts", "created_at", "updated_at"},
		rowsOf(incidents, func(i int) []any {
			t := at(i * 5)
			return []any{id("inc", i, t), orgs[i%len(orgs)], "Multi-stage incident", "active", sev[i%4], i % 4, 5, 0, t, t}
		}))
	if err != nil {
		return LoadStats{}, fmt.Errorf("incidents: %w", err)
	}
	alertID := func(i int) string { return id("alr", i, at(i)) }
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"alerts"},
		[]string{"id", "org_id", "incident_id", "title", "description", "severity", "severity_rank", "status", "category", "service_source", "detection_source",
			"recommended_actions", "raised_by", "created_at", "updated_at"},
		rowsOf(cfg.Rows, func(i int) []any {
			t, inc := at(i), i/5
			return []any{alertID(i), orgs[inc%len(orgs)], id("inc", inc, at(inc*5)), "Suspicious PowerShell", "An encoded command downloaded a payload.",
				sev[inc%4], inc % 4, "new", "Execution", "microsoftDefenderForEndpoint", "microsoftDefenderForEndpoint", "Isolate the device.", "usr_expert", t, t}
		}))
	if err != nil {
		return LoadStats{}, fmt.Errorf("alerts: %w", err)
	}
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"alert_devices"}, []string{"alert_id", "device_id", "device_name"},
		rowsOf(cfg.Rows, func(i int) []any {
			return []any{alertID(i), "dev-" + strconv.Itoa(i%5000), "HOST-" + strconv.Itoa(i%5000)}
		}))
	if err != nil {
		return LoadStats{}, fmt.Errorf("alert devices: %w", err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		return LoadStats{}, err
	}
	return LoadStats{Inquiries: cfg.Rows, Alerts: cfg.Rows, Incidents: incidents, Orgs: cfg.Orgs, Seconds: time.Since(t0).Seconds()}, nil
}

func rowsOf(n int, row func(i int) []any) pgx.CopyFromSource {
	i := -1
	return pgx.CopyFromFunc(func() ([]any, error) {
		i++
		if i >= n {
			return nil, nil
		}
		return row(i), nil
	})
}

// ReadRow is one list request through the API beside the same SQL through
// pgx on the same data, with its plan.
type ReadRow struct {
	Name     string   `json:"name"`
	API      Latency  `json:"api"`
	SQL      Latency  `json:"sql"`
	Ratio    float64  `json:"p99_ratio"`
	Plan     []string `json:"plan"` // scans: "Index Scan using inquiries_queue on inquiries", …
	SeqScans []string `json:"seq_scans,omitempty"`
}

// read is one measured list: its API request, and the same request made
// in-process through the services with the statements it runs captured.
type read struct {
	name, path, token string
	call              func(ctx context.Context) error
}

func measureReads(ctx context.Context, st *stack, cl *client, pp *people, cfg Config) ([]ReadRow, error) {
	svc := struct {
		inq    *cases.Inquiries
		sla    *cases.SLA
		alerts *cases.Alerts
	}{&cases.Inquiries{DB: st.db}, &cases.SLA{DB: st.db}, &cases.Alerts{DB: st.db}}
	// A loaded org, its admin (a token for the API, a principal in-process).
	var org struct{ ID string }
	if err := st.db.Gorm().WithContext(ctx).Table("orgs").Select("id").Where("name = ?", "Loaded 0007").Take(&org).Error; err != nil {
		return nil, err
	}
	u, err := st.db.CreateUser(ctx, models.System, models.UserInput{OrgID: org.ID, Email: "admin@loaded.example", Name: "Loaded admin", Role: models.RoleCustomerAdmin})
	if err != nil {
		return nil, err
	}
	custTok, _, err := st.db.CreateToken(ctx, models.System, u.ID, models.TokenInput{Name: "bench"})
	if err != nil {
		return nil, err
	}
	cust := models.Principal{UserID: u.ID, OrgID: org.ID, Role: models.RoleCustomerAdmin}
	// The 50th queue page's cursor, walked once.
	cursor := ""
	for range 49 {
		l, err := svc.inq.Queue(ctx, pp.expP, models.InquiryFilter{Page: models.Page{Limit: 50, Cursor: cursor}})
		if err != nil {
			return nil, err
		}
		cursor = l.NextCursor
	}
	month := time.Now().UTC().AddDate(0, -1, 0) // last month: a whole month of loaded rows
	from := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	since := time.Now().UTC().AddDate(0, 0, -30).Format(time.RFC3339)
	filter := url.Values{"$filter": {"severity eq 'high' and createdDateTime gt " + since}, "$orderby": {"createdDateTime desc"}, "$top": {"50"}}
	reads := []read{
		{"expert queue, first page", "/api/v1/queue?limit=50", pp.expert, func(ctx context.Context) error {
			_, err := svc.inq.Queue(ctx, pp.expP, models.InquiryFilter{Page: models.Page{Limit: 50}})
			return err
		}},
		{"expert queue, 50th page", "/api/v1/queue?limit=50&cursor=" + url.QueryEscape(cursor), pp.expert, func(ctx context.Context) error {
			_, err := svc.inq.Queue(ctx, pp.expP, models.InquiryFilter{Page: models.Page{Limit: 50, Cursor: cursor}})
			return err
		}},
		{"a customer's inquiries", "/api/v1/inquiries?limit=50", custTok, func(ctx context.Context) error {
			_, err := svc.inq.List(ctx, cust, models.InquiryFilter{Page: models.Page{Limit: 50}})
			return err
		}},
		{"SLA timers", "/api/v1/sla/timers?limit=50", pp.manager, func(ctx context.Context) error {
			_, err := svc.sla.Timers(ctx, pp.manP, models.SLATimerFilter{Page: models.Page{Limit: 50}})
			return err
		}},
		{"SLA report, one month", "/api/v1/reports/sla?from=" + from.Format(time.RFC3339) + "&to=" + to.Format(time.RFC3339), pp.manager, func(ctx context.Context) error {
			_, err := svc.sla.Report(ctx, pp.manP, &from, &to, "")
			return err
		}},
		{"alerts, high since 30 days, newest first (expert)", "/api/v1/alerts?" + filter.Encode(), pp.expert, func(ctx context.Context) error {
			_, err := svc.alerts.List(ctx, pp.expP, filter)
			return err
		}},
		{"alerts, high since 30 days, newest first (customer)", "/api/v1/alerts?" + filter.Encode(), custTok, func(ctx context.Context) error {
			_, err := svc.alerts.List(ctx, cust, filter)
			return err
		}},
	}
	pool, err := pgxpool.New(ctx, st.dbURL)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	var rows []ReadRow
	for _, r := range reads {
		stmts, err := capture(ctx, st.db.Gorm(), r.call)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.name, err)
		}
		row := ReadRow{Name: r.name}
		for _, s := range stmts {
			scans, seq, err := plan(ctx, pool, s)
			if err != nil {
				return nil, fmt.Errorf("%s: explain: %w", r.name, err)
			}
			row.Plan, row.SeqScans = append(row.Plan, scans...), append(row.SeqScans, seq...)
		}
		var apiDs, sqlDs []time.Duration
		// Repeat samples, or fewer for a slow query: at most ~20 s each.
		for begin := time.Now(); len(apiDs) < cfg.Repeat && (len(apiDs) < 5 || time.Since(begin) < 20*time.Second); {
			t0 := time.Now()
			if err := cl.call(ctx, "GET", r.path, r.token, nil, nil); err != nil {
				return nil, fmt.Errorf("%s: %w", r.name, err)
			}
			apiDs = append(apiDs, time.Since(t0))
			t0 = time.Now()
			for _, s := range stmts {
				rs, err := pool.Query(ctx, s.sql, s.args...)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", r.name, err)
				}
				for rs.Next() {
					_ = rs.RawValues()
				}
				rs.Close()
				if err := rs.Err(); err != nil {
					return nil, fmt.Errorf("%s: %w", r.name, err)
				}
			}
			sqlDs = append(sqlDs, time.Since(t0))
		}
		row.API, row.SQL = latencyOf(apiDs), latencyOf(sqlDs)
		if row.SQL.P99 > 0 {
			row.Ratio = row.API.P99 / row.SQL.P99
		}
		cfg.Logger.Info("read", "query", r.name, "api_p99_ms", row.API.P99, "sql_p99_ms", row.SQL.P99, "seq_scans", row.SeqScans)
		rows = append(rows, row)
	}
	return rows, nil
}

// statement is one SQL statement a service ran, with its arguments.
type statement struct {
	sql  string
	args []any
}

var captureMu sync.Mutex

// capture runs fn with every query GORM sends recorded (in PostgreSQL's
// $n placeholders), so the same SQL can be replayed through pgx.
func capture(ctx context.Context, g *gorm.DB, fn func(context.Context) error) ([]statement, error) {
	captureMu.Lock()
	defer captureMu.Unlock()
	var got []statement
	rec := func(tx *gorm.DB) {
		if tx.Statement.SQL.Len() > 0 {
			got = append(got, statement{sql: tx.Statement.SQL.String(), args: append([]any(nil), tx.Statement.Vars...)})
		}
	}
	cb := g.Callback()
	name := "bench:capture"
	_ = cb.Query().After("gorm:query").Register(name, rec)
	_ = cb.Raw().After("gorm:raw").Register(name, rec)
	_ = cb.Row().After("gorm:row").Register(name, rec)
	err := fn(ctx)
	_ = cb.Query().Remove(name)
	_ = cb.Raw().Remove(name)
	_ = cb.Row().Remove(name)
	return got, err
}

// plan EXPLAINs s and returns its scans, and the sequential scans of big
// tables among them.
func plan(ctx context.Context, pool *pgxpool.Pool, s statement) (scans, seq []string, err error) {
	var raw []byte
	if err := pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+s.sql, s.args...).Scan(&raw); err != nil {
		return nil, nil, err
	}
	var doc []struct{ Plan node }
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, nil, err
	}
	big := map[string]bool{"inquiries": true, "alerts": true, "incidents": true, "alert_devices": true, "audit_log": true}
	var walk func(n node)
	walk = func(n node) {
		if strings.HasSuffix(n.Type, "Scan") && n.Relation != "" {
			d := n.Type + " on " + n.Relation
			if n.Index != "" {
				d = n.Type + " using " + n.Index + " on " + n.Relation
			}
			scans = append(scans, d)
			if n.Type == "Seq Scan" && big[n.Relation] {
				seq = append(seq, d)
			}
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	for _, d := range doc {
		walk(d.Plan)
	}
	return scans, seq, nil
}

type node struct {
	Type     string `json:"Node Type"`
	Relation string `json:"Relation Name"`
	Index    string `json:"Index Name"`
	Plans    []node `json:"Plans"`
}

// measureStart times `huntdesk dev` from exec to a ready /readyz: cold (a
// new data directory: SQLite schemas, Temporal's namespace) and warm (the
// same directory again). `make run` adds `go run`'s compile on top.
func measureStart(ctx context.Context, cfg Config, f *Footprint) error {
	if fi, err := os.Stat(cfg.Bin); err == nil {
		f.BinaryMiB = float64(fi.Size()) / (1 << 20)
	}
	dir, err := os.MkdirTemp("", "huntdesk-bench-dev-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	run := func() (time.Duration, error) {
		ports := make([]string, 3)
		for i := range ports {
			p, err := procs.FreePort()
			if err != nil {
				return 0, err
			}
			ports[i] = "127.0.0.1:" + strconv.Itoa(p)
		}
		p := &procs.Proc{Name: "dev", Bin: cfg.Bin, Log: filepath.Join(dir, "dev.log"),
			Args: []string{"dev", "--data-dir", filepath.Join(dir, "data"), "--http-addr", ports[0], "--smtp-addr", ports[1], "--temporal-addr", ports[2], "--ui-addr", ""},
			Env:  []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "HUNTDESK_LOG_LEVEL=warn"}, Ready: procs.HTTPReady("http://" + ports[0] + "/readyz")}
		t0 := time.Now()
		if err := p.Start(ctx); err != nil {
			return 0, err
		}
		d := time.Since(t0)
		p.Stop()
		return d, nil
	}
	cold, err := run()
	if err != nil {
		return err
	}
	warm, err := run()
	if err != nil {
		return err
	}
	f.ColdStartS, f.WarmStartS = cold.Seconds(), warm.Seconds()
	f.StartMeasuredV = "`huntdesk dev` from exec to a ready /readyz (make run adds go run's compile)"
	return nil
}
