package api_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/huntdesk/huntdesk/api"
	"github.com/huntdesk/huntdesk/models"
)

func TestSLAReportValidationAndCSV(t *testing.T) {
	f := newFixture(t, api.Config{RateLimit: -1})
	for q, field := range map[string]string{
		"from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z": "from",
		"from=2025-01-01T00:00:00Z&to=2026-11-01T00:00:00Z": "to",
		"from=yesterday": "from",
	} {
		res := f.do(request{method: "GET", path: "/api/v1/reports/sla?" + q, token: f.as("manager")})
		if code, fields := res.errorOf(t); res.Status != http.StatusBadRequest || code != models.EINVALID || fields[field] == "" {
			t.Errorf("%s: %d %s, want 400 naming %s", q, res.Status, res.Body, field)
		}
	}
	if res := f.do(request{method: "GET", path: "/api/v1/reports/sla", token: f.as("expert")}); res.Status != http.StatusForbidden {
		t.Fatalf("an expert reads the report: %d", res.Status)
	}
	res := f.do(request{method: "GET", path: "/api/v1/reports/sla?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z", token: f.as("manager"),
		header: map[string]string{"Accept": "text/csv"}})
	rows, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
	if err != nil || res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %v %s", res.Status, err, res.Body)
	}
	if len(rows) != 3 || rows[0][0] != "section" || rows[1][0] != "inquiries" || rows[1][3] != "0" || rows[1][7] != "" || rows[2][0] != "applications" {
		t.Fatalf("an empty month as CSV: %q", rows)
	}
}
