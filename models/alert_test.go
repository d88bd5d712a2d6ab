package models_test

import (
	"strings"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/models"
)

func TestAlertInputValidation(t *testing.T) {
	valid := func() models.AlertInput {
		return models.AlertInput{OrgID: "org_1", Title: " Credential theft ", Severity: models.SeverityHigh, Category: "CredentialAccess",
			Devices: []models.AlertDevice{{ID: "dev-1", Name: "FIN-LAPTOP-7"}}}
	}
	in := valid()
	if err := in.Validate(); err != nil || in.Title != "Credential theft" {
		t.Fatalf("valid: %v %q", err, in.Title)
	}
	for field, mutate := range map[string]func(*models.AlertInput){
		"org_id":   func(a *models.AlertInput) { a.OrgID = "" },
		"title":    func(a *models.AlertInput) { a.Title = "two\nlines" },
		"severity": func(a *models.AlertInput) { a.Severity = "critical" },
		"category": func(a *models.AlertInput) { a.Category = "" },
		"devices":  func(a *models.AlertInput) { a.Devices = nil },
	} {
		in := valid()
		mutate(&in)
		if f := fieldsOf(t, in.Validate()); f[field] == "" {
			t.Errorf("%s: %v", field, f)
		}
	}
	in = valid()
	in.Devices = append(in.Devices, models.AlertDevice{ID: "dev-1", Name: "again"})
	if f := fieldsOf(t, in.Validate()); !strings.Contains(f["devices"], "twice") {
		t.Errorf("a device twice: %v", f)
	}
}

func TestRuleInputValidation(t *testing.T) {
	in := models.RuleInput{Name: "SOC", Recipients: []string{"soc@x.example", "SOC@x.example", "ciso@x.example"}, MinSeverity: models.SeverityMedium}
	if err := in.Validate(); err != nil || len(in.Recipients) != 2 || in.ServiceSources == nil {
		t.Fatalf("valid (recipients deduplicated, sources []): %v %+v", err, in)
	}
	many := make([]string, 51)
	for i := range many {
		many[i] = "a@x.example"
	}
	for field, in := range map[string]models.RuleInput{
		"name":            {Recipients: []string{"a@x.example"}, MinSeverity: "low"},
		"recipients":      {Name: "n", Recipients: []string{"a@x.example\r\nBcc: b@x.example"}, MinSeverity: "low"},
		"min_severity":    {Name: "n", Recipients: []string{"a@x.example"}, MinSeverity: "urgent"},
		"service_sources": {Name: "n", Recipients: []string{"a@x.example"}, MinSeverity: "low", ServiceSources: []string{""}},
	} {
		if f := fieldsOf(t, in.Validate()); f[field] == "" {
			t.Errorf("%s: %v", field, f)
		}
	}
	in = models.RuleInput{Name: "n", Recipients: many, MinSeverity: "low"}
	if f := fieldsOf(t, in.Validate()); f["recipients"] != "must list 1 to 50 email addresses" {
		t.Errorf("51 recipients: %v", f)
	}
	r := models.NotificationRule{Enabled: true, MinSeverity: models.SeverityMedium, ServiceSources: []string{"EDR"}}
	for _, c := range []struct {
		sev    models.Severity
		source string
		want   bool
	}{{"high", "EDR", true}, {"medium", "EDR", true}, {"low", "EDR", false}, {"high", "Antivirus", false}} {
		if got := r.Matches(&models.Alert{Severity: c.sev, ServiceSource: c.source}); got != c.want {
			t.Errorf("%s from %s: %v", c.sev, c.source, got)
		}
	}
	r.Enabled = false
	if r.Matches(&models.Alert{Severity: "high", ServiceSource: "EDR"}) {
		t.Error("a disabled rule matched")
	}
}

func TestIngestAlertValidation(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	in := models.IngestAlert{ExternalID: "e1", Title: "t", Severity: "low", Category: "c", DetectionSource: "EDR"}
	if err := in.Validate(now); err != nil || in.Status != models.AlertNew || in.ServiceSource != models.SourceDefenderForEndpoint || !in.CreatedAt.Equal(now) {
		t.Fatalf("defaults: %v %+v", err, in)
	}
	future := now.Add(2 * time.Hour)
	for field, in := range map[string]models.IngestAlert{
		"external_id":      {Title: "t", Severity: "low", Category: "c", DetectionSource: "EDR"},
		"detection_source": {ExternalID: "e", Title: "t", Severity: "low", Category: "c"},
		"created_at":       {ExternalID: "e", Title: "t", Severity: "low", Category: "c", DetectionSource: "EDR", CreatedAt: &future},
		"evidence":         {ExternalID: "e", Title: "t", Severity: "low", Category: "c", DetectionSource: "EDR", Evidence: []models.Evidence{{Kind: "smell", Value: "x"}}},
		"status":           {ExternalID: "e", Title: "t", Severity: "low", Category: "c", DetectionSource: "EDR", Status: "closed"},
	} {
		if f := fieldsOf(t, in.Validate(now)); f[field] == "" {
			t.Errorf("%s: %v", field, f)
		}
	}
}

// Nearest-rank percentiles at their edges: no value, one, two.
func TestSummarizeNearestRank(t *testing.T) {
	if d := models.Summarize(nil); d.N != 0 || d.P50 != nil || d.P90 != nil || d.Max != nil {
		t.Fatalf("none: %+v", d)
	}
	if d := models.Summarize([]time.Duration{7 * time.Second}); *d.P50 != 7 || *d.P90 != 7 || *d.Max != 7 {
		t.Fatalf("one: %+v", d)
	}
	if d := models.Summarize([]time.Duration{9 * time.Second, 3 * time.Second}); *d.P50 != 3 || *d.P90 != 9 || *d.Max != 9 {
		t.Fatalf("two: p50 %v p90 %v", *d.P50, *d.P90)
	}
	ten := make([]time.Duration, 10)
	for i := range ten {
		ten[i] = time.Duration(10-i) * time.Second
	}
	if d := models.Summarize(ten); *d.P50 != 5 || *d.P90 != 9 || *d.Max != 10 {
		t.Fatalf("1..10: p50 %v p90 %v", *d.P50, *d.P90)
	}
}
