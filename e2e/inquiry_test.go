package e2e

import (
	"archive/zip"
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/huntdesk/huntdesk/internal/cases"
	devstack "github.com/huntdesk/huntdesk/internal/dev/stack"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/internal/zipcrypto"
)

// fastInquiries runs Process B's clocks in seconds.
func fastInquiries(sla time.Duration) func(*devstack.Config) {
	return func(c *devstack.Config) {
		c.Inquiries = cases.Inquiries{SLA: sla, Reminders: []time.Duration{sla / 3, 2 * sla / 3}, CustomerTimeout: sla}
	}
}

type inquiry struct {
	ID, Status, Subscription string
	TopicKind                string  `json:"topic_kind"`
	TopicGroup               *string `json:"topic_group"`
	AlertID                  *string `json:"alert_id"`
	AssigneeID               *string `json:"assignee_id"`
	SLA                      struct {
		DueAt    *time.Time `json:"due_at"`
		Paused   bool
		Breached bool
	}
	Samples  []struct{ ID, Filename, SHA256 string }
	Reports  []struct{ Category string }
	Timeline []struct{ Action string }
}

func (c client) upload(path, token, filename string, data []byte) reply {
	c.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, _ := w.CreateFormFile("file", filename)
	fw.Write(data)
	w.Close()
	req, _ := http.NewRequest("POST", c.base+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, body: b}
}

func TestInquiryLifecycle(t *testing.T) {
	dbURL := ""
	if os.Getenv("DATABASE_URL") != "" {
		dbURL = storetest.DSN(t)
	}
	st := stack(t, t.TempDir(), dbURL, time.Hour, fastInquiries(10*time.Minute)) // no clock event may interleave with the asserted timeline
	defer st.Close()
	c := client{t: t, base: st.URL}
	tok := st.Tokens
	contoso, expert, manager := tok["admin@contoso.example"], tok["expert@huntdesk.example"], tok["manager@huntdesk.example"]

	// Northwind has no subscription.
	ask := map[string]any{"topic_url": "https://security.microsoft.com/alerts/da637", "context": "A suspicious PowerShell command line ran on FIN-LAPTOP-7; is it malicious?", "contact_email": "secops@contoso.example"}
	if r := c.call("POST", "/api/v1/inquiries", tok["admin@northwind.example"], ask); r.status != 403 || r.code(t) != "subscription_required" || !strings.Contains(string(r.body), "account team") {
		t.Fatalf("northwind: %d %s", r.status, r.body)
	}
	// Bad input names its fields and creates nothing.
	if r := c.call("POST", "/api/v1/inquiries", contoso, map[string]any{"topic_url": "not a link", "context": "short", "contact_email": "x"}); r.status != 400 ||
		!strings.Contains(string(r.body), "topic_url") || !strings.Contains(string(r.body), "context") || !strings.Contains(string(r.body), "contact_email") {
		t.Fatalf("bad inquiry: %d %s", r.status, r.body)
	}

	// Contoso (trial) asks about an alert.
	var q inquiry
	r := c.call("POST", "/api/v1/inquiries", contoso, ask, "Idempotency-Key", "ask-1")
	r.decode(t, &q)
	if r.status != 201 || q.Subscription != "trial" || q.TopicKind != "alert" || q.AlertID == nil || *q.AlertID != "da637" ||
		q.TopicGroup == nil || *q.TopicGroup != "alert_information" || q.SLA.DueAt == nil || q.Status != "submitted" {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	if again := c.call("POST", "/api/v1/inquiries", contoso, ask, "Idempotency-Key", "ask-1"); !bytes.Equal(again.body, r.body) {
		t.Fatalf("idempotent replay differs: %s", again.body)
	}
	c.waitMail("secops@contoso.example", "received your question")

	// In the expert queue; the expert claims it.
	if r := c.call("GET", "/api/v1/queue?assignee=none", expert, nil); !strings.Contains(string(r.body), q.ID) {
		t.Fatalf("queue: %s", r.body)
	}
	r = c.call("POST", "/api/v1/inquiries/"+q.ID+"/claim", expert, nil)
	r.decode(t, &q)
	if r.status != 200 || q.Status != "in_progress" || q.AssigneeID == nil {
		t.Fatalf("claim: %d %s", r.status, r.body)
	}
	if r := c.call("POST", "/api/v1/inquiries/"+q.ID+"/claim", manager, nil); r.status != 409 || r.code(t) != "invalid_state" {
		t.Fatalf("second claim: %d %s", r.status, r.body)
	}
	if r := c.call("POST", "/api/v1/inquiries/"+q.ID+"/responses", contoso, map[string]any{"message": "nothing asked yet"}); r.status != 409 {
		t.Fatalf("a response when nothing is awaited: %d %s", r.status, r.body)
	}

	// samples_needed: emailed, clock paused.
	r = c.call("POST", "/api/v1/inquiries/"+q.ID+"/reports", expert, map[string]any{"category": "samples_needed", "message": "Please upload the script the command line ran."})
	r.decode(t, &q)
	if r.status != 201 || q.Status != "awaiting_customer" || !q.SLA.Paused || q.SLA.DueAt != nil {
		t.Fatalf("samples_needed: %d %s", r.status, r.body)
	}
	report := c.waitMail("secops@contoso.example", "samples are needed")
	if !strings.Contains(report.Text, "upload the script") {
		t.Fatalf("report email: %q", report.Text)
	}

	// Contoso uploads; too large is refused.
	sample := []byte("powershell -enc SQBFAFgA # not really")
	r = c.upload("/api/v1/inquiries/"+q.ID+"/samples", contoso, "run.ps1", sample)
	var smp struct{ ID, SHA256 string }
	r.decode(t, &smp)
	if r.status != 201 || len(smp.SHA256) != 64 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	c.call("GET", "/api/v1/inquiries/"+q.ID, contoso, nil).decode(t, &q)
	if q.Status != "in_progress" || q.SLA.Paused || q.SLA.DueAt == nil || len(q.Samples) != 1 {
		t.Fatalf("a sample resumes work: %+v", q)
	}
	if r := c.call("GET", "/api/v1/samples/"+smp.ID+"/download", contoso, nil); r.status != 403 {
		t.Fatalf("customers never download samples: %d", r.status)
	}

	// The expert downloads the zip and opens it with the password.
	r = c.call("GET", "/api/v1/samples/"+smp.ID+"/download", expert, nil)
	if r.status != 200 || bytes.Contains(r.body, sample) {
		t.Fatalf("download: %d (the raw file must never be served)", r.status)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != "run.ps1" {
		t.Fatalf("zip: %v", err)
	}
	got, err := zipcrypto.ReadFile(zr.File[0], "infected")
	if err != nil || !bytes.Equal(got, sample) {
		t.Fatalf("open with the password: %v", err)
	}

	// Concluded: final email with findings; the inquiry is closed.
	r = c.call("POST", "/api/v1/inquiries/"+q.ID+"/reports", expert, map[string]any{"category": "concluded", "message": "Benign admin script. If you see it elsewhere, engage your incident-response team."})
	r.decode(t, &q)
	if r.status != 201 || q.Status != "concluded" {
		t.Fatalf("conclude: %d %s", r.status, r.body)
	}
	final := c.waitMail("secops@contoso.example", "concluded")
	if !strings.Contains(final.Text, "Benign admin script") {
		t.Fatalf("final email: %q", final.Text)
	}
	if r := c.call("POST", "/api/v1/inquiries/"+q.ID+"/reports", expert, map[string]any{"category": "more_time_needed", "message": "x"}); r.status != 409 {
		t.Fatalf("report on a closed inquiry: %d", r.status)
	}
	c.call("GET", "/api/v1/inquiries/"+q.ID, contoso, nil).decode(t, &q)
	actions := []string{}
	for _, e := range q.Timeline {
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, ",") != "submitted,claimed,reported,sample_added,sample_downloaded,reported" {
		t.Fatalf("timeline: %v", actions)
	}
	// Fabrikam cannot see Contoso's inquiry.
	if r := c.call("GET", "/api/v1/inquiries/"+q.ID, tok["admin@fabrikam.example"], nil); r.status != 404 {
		t.Fatalf("cross-tenant inquiry: %d", r.status)
	}
}

func TestInquiryBreachEscalates(t *testing.T) {
	st := stack(t, t.TempDir(), storetest.DSN(t), time.Hour, fastInquiries(2*time.Second))
	defer st.Close()
	c := client{t: t, base: st.URL}
	var q inquiry
	r := c.call("POST", "/api/v1/inquiries", st.Tokens["admin@fabrikam.example"], map[string]any{
		"topic_url": "https://security.microsoft.com/machines/abc", "context": "Possible device compromise on a build server.", "contact_email": "soc@fabrikam.example"})
	r.decode(t, &q)
	if r.status != 201 || q.Subscription != "full" || q.TopicKind != "device" {
		t.Fatalf("submit: %d %s", r.status, r.body)
	}
	c.waitMail("expert@huntdesk.example", "SLA warning", q.ID)
	esc := c.waitMail("manager@huntdesk.example", "SLA breached", q.ID)
	if !strings.Contains(esc.Text, q.ID) {
		t.Fatalf("escalation: %q", esc.Text)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c.call("GET", "/api/v1/queue?breached=true", st.Tokens["manager@huntdesk.example"], nil)
		c.call("GET", "/api/v1/inquiries/"+q.ID, st.Tokens["manager@huntdesk.example"], nil).decode(t, &q)
		if q.SLA.Breached || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !q.SLA.Breached {
		t.Fatalf("inquiry not marked breached: %+v", q)
	}
	if r := c.call("GET", "/api/v1/queue?breached=true", st.Tokens["manager@huntdesk.example"], nil); !strings.Contains(string(r.body), q.ID) {
		t.Fatalf("breached filter: %s", r.body)
	}
}
