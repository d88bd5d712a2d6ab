// Package e2e drives the real dev stack (in-process Temporal server, SQLite or
// PostgreSQL, SMTP sink, API) over HTTP. It is the one test package that links
// the Temporal server: keep server-linking tests here.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	devstack "github.com/huntdesk/huntdesk/internal/dev/stack"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
)

// stack starts a dev stack on free ports over dataDir.
func stack(t *testing.T, dataDir, dbURL string, reviewSLA time.Duration, tune ...func(*devstack.Config)) *devstack.Stack {
	t.Helper()
	cfg := devstack.Config{
		DataDir: dataDir, DatabaseURL: dbURL,
		HTTPAddr: "127.0.0.1:0", SMTPAddr: "127.0.0.1:0", TemporalAddr: "127.0.0.1:0", UIAddr: "127.0.0.1:0",
		ReviewSLA: reviewSLA,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, f := range tune {
		f(&cfg)
	}
	st, err := devstack.Start(context.Background(), cfg)
	// The embedded Temporal server reserves free ports and releases them
	// before binding; another process may take one meanwhile. Try again.
	for attempt := 1; err != nil && attempt < 5 && strings.Contains(err.Error(), "address already in use"); attempt++ {
		st, err = devstack.Start(context.Background(), cfg)
	}
	if err != nil {
		t.Fatalf("start dev stack: %v", err)
	}
	return st
}

type client struct {
	t    *testing.T
	base string
}

type reply struct {
	status int
	body   []byte
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r reply) code(t *testing.T) string {
	t.Helper()
	var e struct{ Error struct{ Code string } }
	r.decode(t, &e)
	return e.Error.Code
}

func (c client) call(method, path, token string, body any, header ...string) reply {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, body: b}
}

type mailMsg struct {
	ID        string    `json:"id"`
	From      string    `json:"from"`
	To        []string  `json:"to"`
	Subject   string    `json:"subject"`
	MessageID string    `json:"message_id"`
	Text      string    `json:"text"`
	At        time.Time `json:"received_at"`
}

// waitMail polls the sink until a message to `to` whose subject contains
// `subject` (and whose subject or text contains each of `about`, e.g. the
// case's id) arrives, and returns it. A message returned once is never
// returned again, so a second wait for the same subject waits for a new
// email rather than matching the earlier one. Polling bounds how long we wait
// for an asynchronous worker; it asserts nothing about speed.
func (c client) waitMail(to, subject string, about ...string) mailMsg {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := c.call("GET", "/dev/mail?to="+url.QueryEscape(to), "", nil)
		var msgs []mailMsg
		r.decode(c.t, &msgs)
		for i := len(msgs) - 1; i >= 0; i-- { // newest first: take the oldest match
			m := msgs[i]
			if !strings.Contains(strings.ToLower(m.Subject), strings.ToLower(subject)) || !mentions(c, m, about) {
				continue
			}
			if _, taken := takenMail.LoadOrStore(m.MessageID+"\x00"+to, true); !taken {
				return m
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no new email to %s about %q %v; sink has %s", to, subject, about, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// takenMail holds the messages waitMail returned (Message-ID NUL recipient).
// Message-IDs derive from (case, event), and case ids are unique, so one
// set serves every stack of the test binary.
var takenMail sync.Map

// mentions reports whether m's subject or text contains every string of about.
// The list view may omit the text, so it is read from the message itself.
func mentions(c client, m mailMsg, about []string) bool {
	if len(about) == 0 {
		return true
	}
	text := m.Text
	if text == "" {
		var full mailMsg
		c.call("GET", "/dev/mail/"+m.ID, "", nil).decode(c.t, &full)
		text = full.Text
	}
	for _, a := range about {
		if !strings.Contains(m.Subject, a) && !strings.Contains(text, a) {
			return false
		}
	}
	return true
}

func (c client) mailCount(to string) int {
	var msgs []mailMsg
	c.call("GET", "/dev/mail?to="+url.QueryEscape(to), "", nil).decode(c.t, &msgs)
	return len(msgs)
}

func TestDevStackEndToEnd(t *testing.T) {
	dir := t.TempDir()
	dbURL := ""
	if os.Getenv("DATABASE_URL") != "" {
		dbURL = storetest.DSN(t)
	}
	st := stack(t, dir, dbURL, time.Hour)
	c := client{t: t, base: st.URL}
	tok := st.Tokens

	// Seeded demo users, each with a token, also written to demo-tokens.json.
	var onDisk map[string]string
	b, err := os.ReadFile(filepath.Join(dir, "demo-tokens.json"))
	if err != nil || json.Unmarshal(b, &onDisk) != nil || len(onDisk) != 6 {
		t.Fatalf("demo-tokens.json: %v %s", err, b)
	}
	roles := map[string]string{
		"manager@huntdesk.example": "manager", "expert@huntdesk.example": "expert",
		"admin@contoso.example": "customer_admin", "analyst@contoso.example": "customer_viewer",
		"admin@fabrikam.example": "customer_admin", "admin@northwind.example": "customer_admin",
	}
	orgOf := map[string]string{}
	for email, role := range roles {
		r := c.call("GET", "/api/v1/me", onDisk[email], nil)
		var me struct {
			User struct{ Email, Role string }
			Org  struct{ ID, Name string }
		}
		r.decode(t, &me)
		if r.status != 200 || me.User.Email != email || me.User.Role != role {
			t.Fatalf("/me as %s: %d %s", email, r.status, r.body)
		}
		orgOf[me.Org.Name] = me.Org.ID
	}

	// Tenancy: Contoso cannot see Fabrikam.
	if r := c.call("GET", "/api/v1/orgs/"+orgOf["Fabrikam"], tok["admin@contoso.example"], nil); r.status != 404 || r.code(t) != "not_found" {
		t.Fatalf("cross-tenant org: %d %s", r.status, r.body)
	}

	// Process A, approve path: apply → received email → approve → welcome → enabled.
	apply := map[string]any{"contact_name": "Casey Contoso", "contact_email": "secops@contoso.example", "accept_privacy_statement": true}
	r := c.call("POST", "/api/v1/applications", tok["admin@contoso.example"], apply, "Idempotency-Key", "contoso-apply-1")
	var app struct {
		ID, Status string
		Timeline   []struct{ Action string }
	}
	r.decode(t, &app)
	if r.status != 201 || app.Status != "submitted" {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	if again := c.call("POST", "/api/v1/applications", tok["admin@contoso.example"], apply, "Idempotency-Key", "contoso-apply-1"); again.status != 201 || !bytes.Equal(again.body, r.body) {
		t.Fatalf("idempotent replay: %d %s", again.status, again.body)
	}
	if open := c.call("POST", "/api/v1/applications", tok["admin@contoso.example"], apply); open.status != 200 || !strings.Contains(string(open.body), app.ID) {
		t.Fatalf("re-applying while open should return the open application: %d %s", open.status, open.body)
	}
	received := c.waitMail("secops@contoso.example", "received")
	if received.MessageID == "" || !strings.Contains(received.Text, "Contoso") {
		t.Fatalf("received email: %+v", received)
	}
	c.waitMail("manager@huntdesk.example", "new application")

	r = c.call("POST", "/api/v1/applications/"+app.ID+"/approve", tok["manager@huntdesk.example"], map[string]any{"note": "welcome aboard"})
	r.decode(t, &app)
	if r.status != 200 || app.Status != "approved" {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	// Committed before the answer: an immediate read shows it.
	var features struct {
		EAN struct {
			State            string
			Visible, Enabled bool
		} `json:"endpoint_attack_notifications"`
	}
	c.call("GET", "/api/v1/settings/advanced-features", tok["analyst@contoso.example"], nil).decode(t, &features)
	if features.EAN.State != "approved" || !features.EAN.Visible || !features.EAN.Enabled {
		t.Fatalf("settings after approval: %+v", features)
	}
	c.waitMail("secops@contoso.example", "welcome")
	if r := c.call("POST", "/api/v1/applications/"+app.ID+"/reject", tok["manager@huntdesk.example"], map[string]any{"reason": "too late"}); r.status != 409 || r.code(t) != "invalid_state" {
		t.Fatalf("second decision: %d %s", r.status, r.body)
	}
	if r := c.call("PATCH", "/api/v1/settings/advanced-features/endpoint-attack-notifications", tok["admin@contoso.example"], map[string]any{"enabled": false}); r.status != 200 || !strings.Contains(string(r.body), `"enabled":false`) {
		t.Fatalf("toggle off: %d %s", r.status, r.body)
	}

	// Northwind has no devices: refused with the reason.
	if r := c.call("POST", "/api/v1/applications", tok["admin@northwind.example"], map[string]any{"contact_name": "N", "contact_email": "n@northwind.example", "accept_privacy_statement": true}); r.status != 422 || r.code(t) != "prerequisite_not_met" || !strings.Contains(string(r.body), "devices") {
		t.Fatalf("northwind: %d %s", r.status, r.body)
	}

	// Reject path, then re-apply and withdraw.
	fab := map[string]any{"contact_name": "Frankie", "contact_email": "soc@fabrikam.example", "accept_privacy_statement": true}
	c.call("POST", "/api/v1/applications", tok["admin@fabrikam.example"], fab).decode(t, &app)
	c.waitMail("soc@fabrikam.example", "received")
	if r := c.call("POST", "/api/v1/applications/"+app.ID+"/reject", tok["manager@huntdesk.example"], map[string]any{"reason": "sensor health below threshold"}); r.status != 200 {
		t.Fatalf("reject: %d %s", r.status, r.body)
	}
	rejected := c.waitMail("soc@fabrikam.example", "not approved")
	if !strings.Contains(rejected.Text, "sensor health below threshold") {
		t.Fatalf("rejection email must carry the reason: %q", rejected.Text)
	}
	r = c.call("POST", "/api/v1/applications", tok["admin@fabrikam.example"], fab)
	r.decode(t, &app)
	if r.status != 201 {
		t.Fatalf("re-apply after rejection: %d %s", r.status, r.body)
	}
	if r := c.call("POST", "/api/v1/applications/"+app.ID+"/withdraw", tok["admin@fabrikam.example"], nil); r.status != 200 || !strings.Contains(string(r.body), `"status":"withdrawn"`) {
		t.Fatalf("withdraw: %d %s", r.status, r.body)
	}
	if r := c.call("POST", "/api/v1/applications/"+app.ID+"/approve", tok["manager@huntdesk.example"], nil); r.status != 409 {
		t.Fatalf("approve a withdrawn application: %d %s", r.status, r.body)
	}

	// The manager audits it all.
	var audit struct {
		Items []struct{ Action, EntityID string }
	}
	c.call("GET", "/api/v1/audit?entity=application&entity_id="+app.ID, tok["manager@huntdesk.example"], nil).decode(t, &audit)
	if len(audit.Items) < 2 || audit.Items[0].Action != "withdrawn" {
		t.Fatalf("audit of the withdrawn application: %+v", audit)
	}

	// An application left open across the restart.
	r = c.call("POST", "/api/v1/applications", tok["admin@fabrikam.example"], map[string]any{"contact_name": "F", "contact_email": "again@fabrikam.example", "accept_privacy_statement": true})
	var open struct{ ID string }
	r.decode(t, &open)
	if r.status != 201 {
		t.Fatalf("apply before restart: %d %s", r.status, r.body)
	}
	c.waitMail("again@fabrikam.example", "received")

	// Restart on the same data dir: data, tokens, mail and workflows survive.
	mails := c.mailCount("secops@contoso.example")
	wfID := "application/" + app.ID
	st.Close()
	st = stack(t, dir, dbURL, time.Hour)
	defer st.Close()
	c = client{t: t, base: st.URL}
	if st.Tokens["admin@contoso.example"] != tok["admin@contoso.example"] {
		t.Fatal("a restart must keep the demo tokens")
	}
	if r := c.call("GET", "/api/v1/applications?status=approved", tok["manager@huntdesk.example"], nil); r.status != 200 || !strings.Contains(string(r.body), "secops@contoso.example") {
		t.Fatalf("after restart: %d %s", r.status, r.body)
	}
	if n := c.mailCount("secops@contoso.example"); n != mails {
		t.Fatalf("mail after restart: %d messages, want %d", n, mails)
	}
	if _, err := st.Client.DescribeWorkflowExecution(context.Background(), wfID, ""); err != nil {
		t.Fatalf("workflow %s after restart: %v", wfID, err)
	}
	// The running workflow picks up where it was: the decision lands and the welcome goes out.
	if r := c.call("POST", "/api/v1/applications/"+open.ID+"/approve", tok["manager@huntdesk.example"], nil); r.status != 200 {
		t.Fatalf("approve after restart: %d %s", r.status, r.body)
	}
	c.waitMail("again@fabrikam.example", "welcome")
}

// TestReviewSLAEscalates runs Process A's review clock in seconds: nobody
// decides, managers get the reminder and then the escalation, the application
// stays open and can still be approved.
func TestReviewSLAEscalates(t *testing.T) {
	dbURL := ""
	if os.Getenv("DATABASE_URL") != "" {
		dbURL = storetest.DSN(t)
	}
	st := stack(t, t.TempDir(), dbURL, 3*time.Second)
	defer st.Close()
	c := client{t: t, base: st.URL}
	var app struct{ ID, Status string }
	r := c.call("POST", "/api/v1/applications", st.Tokens["admin@fabrikam.example"], map[string]any{"contact_name": "F", "contact_email": "f@fabrikam.example", "accept_privacy_statement": true})
	r.decode(t, &app)
	if r.status != 201 {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	c.waitMail("manager@huntdesk.example", "reminder")
	overdue := c.waitMail("manager@huntdesk.example", "overdue")
	if !strings.Contains(overdue.Text, app.ID) {
		t.Fatalf("escalation should name the application: %q", overdue.Text)
	}
	var got struct {
		Status      string
		EscalatedAt *time.Time `json:"escalated_at"`
		Timeline    []struct{ Action string }
	}
	c.call("GET", "/api/v1/applications/"+app.ID, st.Tokens["manager@huntdesk.example"], nil).decode(t, &got)
	actions := fmt.Sprint(got.Timeline)
	if got.Status != "submitted" || got.EscalatedAt == nil || !strings.Contains(actions, "review_escalated") || !strings.Contains(actions, "review_reminder_sent") {
		t.Fatalf("after escalation: %+v", got)
	}
	if r := c.call("POST", "/api/v1/applications/"+app.ID+"/approve", st.Tokens["manager@huntdesk.example"], nil); r.status != 200 {
		t.Fatalf("approve after escalation: %d %s", r.status, r.body)
	}
}
