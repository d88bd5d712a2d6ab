package e2e

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/workflows"
)

type alertJSON struct {
	ID, Severity, Status string
	OrgID                string `json:"org_id"`
	IncidentID           string `json:"incident_id"`
	ServiceSource        string `json:"service_source"`
	DetectionSource      string `json:"detection_source"`
	Tags                 []string
	Devices              []struct{ ID, Name string }
}

// mailsTo lists the sink's messages to one address.
func (c client) mailsTo(to string) []mailMsg {
	var msgs []mailMsg
	c.call("GET", "/dev/mail?to="+url.QueryEscape(to), "", nil).decode(c.t, &msgs)
	return msgs
}

// TestAttackNotificationsEndToEnd is Process C on the dev stack: Contoso is
// approved, sets a rule for high alerts; an expert raises a high and a low
// alert into one incident; exactly one email (the high one, linking to the
// alert) reaches the rule's recipient; Contoso finds the alert with
// Defender-style filters, exports the hunting table as CSV, triages; Fabrikam
// (not enrolled) can be sent no alert and sees none of Contoso's.
func TestAttackNotificationsEndToEnd(t *testing.T) {
	st, c := apiStack(t)
	tok := st.Tokens
	contoso, fabrikam, expert, viewer := tok["admin@contoso.example"], tok["admin@fabrikam.example"], tok["expert@huntdesk.example"], tok["analyst@contoso.example"]
	orgID := func(token string) string {
		var me struct{ Org struct{ ID string } }
		c.api("GET", "/api/v1/me", token, nil).decode(t, &me)
		return me.Org.ID
	}
	contosoID, fabrikamID := orgID(contoso), orgID(fabrikam)

	// Not enrolled yet: no alert can be raised; an enrolled org's queue is empty, never null.
	raise := func(org, sev string, incident string, key string) reply {
		body := map[string]any{"org_id": org, "title": "Suspicious PowerShell on FIN-LAPTOP-7 (" + sev + ")", "description": "Encoded command line.",
			"severity": sev, "category": "Execution", "devices": []map[string]string{{"id": "dev-" + sev, "name": "FIN-LAPTOP-7"}},
			"recommended_actions": "Isolate the device."}
		if incident != "" {
			body["incident_id"] = incident
		}
		return c.api("POST", "/api/v1/alerts", expert, body, "Idempotency-Key", key)
	}
	if r := raise(contosoID, "high", "", "too-early"); r.status != 409 || r.code(t) != "feature_not_enabled" {
		t.Fatalf("before approval: %d %s", r.status, r.body)
	}
	r := c.api("POST", "/api/v1/applications", contoso, map[string]any{"contact_name": "Casey", "contact_email": "secops@contoso.example", "accept_privacy_statement": true})
	var app struct{ ID string }
	r.decode(t, &app)
	if r = c.api("POST", "/api/v1/applications/"+app.ID+"/approve", tok["manager@huntdesk.example"], map[string]any{}); r.status != 200 {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	if r = c.api("GET", "/api/v1/alerts", contoso, nil); r.status != 200 || !strings.Contains(string(r.body), `"items":[]`) {
		t.Fatalf("empty queue: %d %s", r.status, r.body)
	}

	// A rule for high alerts; a bad rule names its field.
	if r = c.api("POST", "/api/v1/notification-rules", contoso, map[string]any{"name": "SOC", "recipients": []string{"soc@contoso.example", "x\r\nBcc: evil@example.com"}, "min_severity": "high"}); r.status != 400 || !strings.Contains(string(r.body), `"recipients"`) {
		t.Fatalf("bad recipient: %d %s", r.status, r.body)
	}
	if r = c.api("POST", "/api/v1/notification-rules", viewer, map[string]any{"name": "SOC", "recipients": []string{"soc@contoso.example"}, "min_severity": "high"}); r.status != 403 {
		t.Fatalf("a viewer writes rules: %d %s", r.status, r.body)
	}
	r = c.api("POST", "/api/v1/notification-rules", contoso, map[string]any{"name": "SOC", "recipients": []string{"soc@contoso.example"}, "min_severity": "high", "include_device_details": true})
	var rule struct {
		ID      string
		Enabled bool
	}
	r.decode(t, &rule)
	if r.status != 201 || !rule.Enabled {
		t.Fatalf("rule: %d %s", r.status, r.body)
	}

	// Raise a high alert, then a low one in the same incident.
	r = raise(contosoID, "high", "", "raise-high")
	var high alertJSON
	r.decode(t, &high)
	if r.status != 201 || high.Status != "new" || high.ServiceSource != "Microsoft Defender for Endpoint" || high.DetectionSource != "Microsoft Defender Experts" ||
		len(high.Tags) != 1 || high.Tags[0] != "Endpoint Attack Notification" || high.IncidentID == "" {
		t.Fatalf("raise high: %d %s", r.status, r.body)
	}
	if again := raise(contosoID, "high", "", "raise-high"); again.status != 201 || !strings.Contains(string(again.body), high.ID) {
		t.Fatalf("a retried raise is replayed, not raised twice: %d %s", again.status, again.body)
	}
	r = raise(contosoID, "low", high.IncidentID, "raise-low")
	var low alertJSON
	r.decode(t, &low)
	if r.status != 201 || low.IncidentID != high.IncidentID {
		t.Fatalf("raise low into the incident: %d %s", r.status, r.body)
	}
	if r = raise(fabrikamID, "high", "", "fabrikam"); r.status != 409 || r.code(t) != "feature_not_enabled" {
		t.Fatalf("Fabrikam is not enrolled: %d %s", r.status, r.body)
	}
	if r = raise(fabrikamID, "high", high.IncidentID, "fabrikam-2"); r.status != 409 {
		t.Fatalf("Fabrikam into Contoso's incident: %d %s", r.status, r.body)
	}

	// Exactly one email, for the high alert, linking to it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, a := range []alertJSON{high, low} {
		var sent int
		if err := st.Client.GetWorkflow(ctx, workflows.AlertWorkflowID(a.ID), "").Get(ctx, &sent); err != nil {
			t.Fatalf("notification workflow of %s: %v", a.Severity, err)
		}
	}
	msgs := c.mailsTo("soc@contoso.example")
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, st.URL+"/app/alerts/"+high.ID) || !strings.Contains(msgs[0].Subject, "[high]") {
		t.Fatalf("emails to the rule's recipient: %+v", msgs)
	}

	// Contoso finds it the Defender way.
	list := func(token string, q url.Values) (int, []alertJSON, string) {
		t.Helper()
		r := c.api("GET", "/api/v1/alerts?"+q.Encode(), token, nil)
		var l struct {
			Items []alertJSON
			Count *int
		}
		if r.status == 200 {
			r.decode(t, &l)
		}
		return r.status, l.Items, string(r.body)
	}
	if st, items, body := list(contoso, url.Values{"$filter": {"severity eq 'high'"}}); st != 200 || len(items) != 1 || items[0].ID != high.ID {
		t.Fatalf("severity eq 'high': %d %s", st, body)
	}
	if st, items, body := list(contoso, url.Values{"$filter": {"serviceSource eq 'Microsoft Defender for Endpoint'"}, "$orderby": {"severity desc"}}); st != 200 || len(items) != 2 || items[0].ID != high.ID {
		t.Fatalf("serviceSource: %d %s", st, body)
	}
	if st, _, body := list(contoso, url.Values{"$filter": {"severity eq 'high' and"}}); st != 400 || !strings.Contains(body, "position 23") {
		t.Fatalf("a malformed filter names the position: %d %s", st, body)
	}
	if st, items, body := list(fabrikam, url.Values{}); st != 200 || len(items) != 0 {
		t.Fatalf("Fabrikam sees Contoso's alerts: %d %s", st, body)
	}
	for _, path := range []string{"/api/v1/alerts/" + high.ID, "/api/v1/incidents/" + high.IncidentID, "/api/v1/notification-rules/" + rule.ID} {
		if r := c.call("GET", path, fabrikam, nil); r.status != 404 {
			t.Fatalf("Fabrikam reads %s: %d %s", path, r.status, r.body)
		}
	}

	// The incident holds both; the hunting table has one row per alert and device.
	r = c.api("GET", "/api/v1/incidents/"+high.IncidentID, viewer, nil)
	var inc struct {
		Severity, Status string
		AlertCount       int `json:"alert_count"`
		Alerts           []alertJSON
		Devices          []struct{ ID string }
	}
	r.decode(t, &inc)
	if r.status != 200 || inc.Severity != "high" || inc.AlertCount != 2 || len(inc.Alerts) != 2 || len(inc.Devices) != 2 {
		t.Fatalf("incident: %d %s", r.status, r.body)
	}
	req, _ := http.NewRequest("GET", st.URL+"/api/v1/hunting/device-alert-events?device_id=dev-high", nil)
	req.Header.Set("Authorization", "Bearer "+viewer)
	req.Header.Set("Accept", "text/csv")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || len(rows) != 2 || rows[0][1] != "AlertId" || rows[1][1] != high.ID || rows[1][6] != "FIN-LAPTOP-7" {
		t.Fatalf("hunting CSV: %d %v %v", res.StatusCode, rows, err)
	}

	// Triage: the viewer may not; the admin may; another org's admin finds nothing.
	patch := map[string]any{"status": "resolved", "classification": "true_positive", "determination": "malware"}
	if r = c.api("PATCH", "/api/v1/alerts/"+high.ID, viewer, patch); r.status != 403 {
		t.Fatalf("viewer patches: %d %s", r.status, r.body)
	}
	if r = c.api("PATCH", "/api/v1/alerts/"+high.ID, fabrikam, patch); r.status != 404 {
		t.Fatalf("Fabrikam patches: %d %s", r.status, r.body)
	}
	if r = c.api("PATCH", "/api/v1/alerts/"+high.ID, contoso, patch); r.status != 200 || !strings.Contains(string(r.body), `"status":"resolved"`) {
		t.Fatalf("admin resolves: %d %s", r.status, r.body)
	}

	// The rule's test email goes out once per key.
	for range 2 {
		if r = c.api("POST", "/api/v1/notification-rules/"+rule.ID+"/test", contoso, nil, "Idempotency-Key", "test-1"); r.status != 202 {
			t.Fatalf("test email: %d %s", r.status, r.body)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		n := 0
		for _, m := range c.mailsTo("soc@contoso.example") {
			if strings.Contains(m.Subject, "Test email") {
				n++
			}
		}
		if n == 1 {
			break
		}
		if n > 1 || time.Now().After(deadline) {
			t.Fatalf("%d test emails, want 1", n)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// /metrics: business gauges, the emails sent and the Temporal SDK's own.
	metrics := string(c.call("GET", "/metrics", "", nil).body)
	for _, want := range []string{`huntdesk_sla_breaches_total{kind="application"} 0`, `huntdesk_sla_breaches_total{kind="inquiry"} 0`, "huntdesk_outbox_pending ",
		`huntdesk_emails_total{result="sent",template="alert_notification"} 1`, "temporal_request", "temporal_workflow_task_execution_latency_seconds_bucket"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
}
