package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	devstack "github.com/huntdesk/huntdesk/internal/dev/stack"
	"github.com/huntdesk/huntdesk/internal/store/storetest"
	"github.com/huntdesk/huntdesk/workflows"
)

// historyVersion names the workflow version that today's code records: a
// path's history is saved as testdata/<path>_<historyVersion>.json. Bump it
// with every GetVersion change, so the new code paths are recorded beside the
// released ones (the files without a suffix are the histories of the code
// before GetVersion(issue-18-hardening)).
const historyVersion = "v3"

// TestRecordHistories runs every path of every workflow on the real server,
// replays each history against today's workflow code, and — with
// HUNTDESK_RECORD_HISTORIES=1 (make record-histories) — saves the ones that
// are missing to workflows/testdata, where workflows' replay test keeps them
// replaying. A recorded history is what released code did: it is never
// overwritten, unless HUNTDESK_RERECORD names it (comma-separated file names
// without .json), on purpose.
func TestRecordHistories(t *testing.T) {
	st := stack(t, t.TempDir(), storetest.DSN(t), 3*time.Second, fastInquiries(3*time.Second))
	defer st.Close()
	c := client{t: t, base: st.URL}
	tok := st.Tokens
	apply := func(admin, contact string) string {
		var app struct{ ID string }
		r := c.call("POST", "/api/v1/applications", tok[admin], map[string]any{"contact_name": "Contact", "contact_email": contact, "accept_privacy_statement": true})
		r.decode(t, &app)
		if r.status != 201 {
			t.Fatalf("apply: %d %s", r.status, r.body)
		}
		c.waitMail(contact, "received")
		return app.ID
	}
	decide := func(id, action, token string, body any) {
		if r := c.call("POST", "/api/v1/applications/"+id+"/"+action, token, body); r.status != 200 {
			t.Fatalf("%s: %d %s", action, r.status, r.body)
		}
	}
	paths := map[string]string{}

	id := apply("admin@contoso.example", "approve@contoso.example")
	decide(id, "approve", tok["manager@huntdesk.example"], map[string]any{"note": "ok"})
	paths["application_approved"] = id

	id = apply("admin@fabrikam.example", "reject@fabrikam.example")
	decide(id, "reject", tok["manager@huntdesk.example"], map[string]any{"reason": "not eligible"})
	paths["application_rejected"] = id

	id = apply("admin@fabrikam.example", "withdraw@fabrikam.example")
	decide(id, "withdraw", tok["admin@fabrikam.example"], nil)
	paths["application_withdrawn"] = id

	id = apply("admin@fabrikam.example", "late@fabrikam.example")
	c.waitMail("manager@huntdesk.example", "overdue", id)
	decide(id, "approve", tok["manager@huntdesk.example"], nil)
	paths["application_escalated_then_approved"] = id

	// Process B.
	expert, contoso := tok["expert@huntdesk.example"], tok["admin@contoso.example"]
	fab := tok["admin@fabrikam.example"]
	ask := func(admin, contact string) string {
		var q struct{ ID string }
		r := c.call("POST", "/api/v1/inquiries", admin, map[string]any{"topic_url": "https://security.microsoft.com/alerts/a1",
			"context": "What does this alert mean for us, please?", "contact_email": contact})
		r.decode(t, &q)
		if r.status != 201 {
			t.Fatalf("ask: %d %s", r.status, r.body)
		}
		c.waitMail(contact, "received your question")
		return q.ID
	}
	do := func(id, action, token string, body any) {
		if r := c.call("POST", "/api/v1/inquiries/"+id+"/"+action, token, body); r.status/100 != 2 {
			t.Fatalf("%s: %d %s", action, r.status, r.body)
		}
	}
	inquiries := map[string]string{}

	id = ask(fab, "sample@fabrikam.example")
	do(id, "claim", expert, nil)
	do(id, "reports", expert, map[string]any{"category": "samples_needed", "message": "Send the file."})
	if r := c.upload("/api/v1/inquiries/"+id+"/samples", fab, "x.bin", []byte("x")); r.status != 201 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	do(id, "reports", expert, map[string]any{"category": "concluded", "message": "Benign."})
	inquiries["inquiry_samples_then_concluded"] = id

	id = ask(fab, "late@fabrikam.example")
	c.waitMail("manager@huntdesk.example", "SLA breached", id)
	do(id, "cancel", fab, nil)
	inquiries["inquiry_breached_then_cancelled"] = id

	id = ask(fab, "silent@fabrikam.example")
	do(id, "claim", expert, nil)
	do(id, "reports", expert, map[string]any{"category": "more_info_needed", "message": "Who ran it?"})
	c.waitMail("silent@fabrikam.example", "closed: no response", id)
	inquiries["inquiry_closed_no_response"] = id

	id = ask(contoso, "chatty@contoso.example")
	do(id, "assign", tok["manager@huntdesk.example"], map[string]any{"user_id": userID(t, c, tok["manager@huntdesk.example"], "expert@huntdesk.example")})
	do(id, "reports", expert, map[string]any{"category": "more_time_needed", "message": "Digging."})
	do(id, "reports", expert, map[string]any{"category": "more_info_needed", "message": "Which host?"})
	do(id, "responses", contoso, map[string]any{"message": "FIN-LAPTOP-7"})
	do(id, "reports", expert, map[string]any{"category": "concluded", "message": "Done."})
	inquiries["inquiry_more_time_response_concluded"] = id

	ids := map[string]string{}
	for name, appID := range paths {
		ids[name] = workflows.ApplicationWorkflowID(appID)
	}
	for name, inqID := range inquiries {
		ids[name] = workflows.InquiryWorkflowID(inqID)
	}
	for name, wfID := range ids {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := st.Client.GetWorkflow(ctx, wfID, "").Get(ctx, nil)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		saveHistory(t, st, name, history(t, st, wfID, ""))
	}
}

// TestRecordContinuedAsNewHistory records an inquiry that continues as new
// (MaxChanges 2: claim, more time, then the next run concludes): the run that
// continued and the run that carried its state on.
func TestRecordContinuedAsNewHistory(t *testing.T) {
	st := stack(t, t.TempDir(), storetest.DSN(t), time.Hour, func(cfg *devstack.Config) {
		fastInquiries(10 * time.Minute)(cfg) // no clock event in between
		cfg.Inquiries.MaxChanges = 2
	})
	defer st.Close()
	c := client{t: t, base: st.URL}
	tok := st.Tokens
	var q struct{ ID string }
	r := c.call("POST", "/api/v1/inquiries", tok["admin@fabrikam.example"], map[string]any{"topic_url": "https://security.microsoft.com/alerts/a1",
		"context": "What does this alert mean for us, please?", "contact_email": "long@fabrikam.example"})
	r.decode(t, &q)
	if r.status != 201 {
		t.Fatalf("ask: %d %s", r.status, r.body)
	}
	c.waitMail("long@fabrikam.example", "received your question", q.ID)
	for _, step := range []struct {
		action string
		body   any
	}{{"claim", nil}, {"reports", map[string]any{"category": "more_time_needed", "message": "Digging."}}, {"reports", map[string]any{"category": "concluded", "message": "Done."}}} {
		if r := c.call("POST", "/api/v1/inquiries/"+q.ID+"/"+step.action, tok["expert@huntdesk.example"], step.body); r.status/100 != 2 {
			t.Fatalf("%s: %d %s", step.action, r.status, r.body)
		}
	}
	wfID := workflows.InquiryWorkflowID(q.ID)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.Client.GetWorkflow(ctx, wfID, "").Get(ctx, nil); err != nil {
		t.Fatal(err)
	}
	last := history(t, st, wfID, "")
	prev := last.Events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
	if prev == "" {
		t.Fatal("the inquiry did not continue as new")
	}
	saveHistory(t, st, "inquiry_continued_as_new_first_run", history(t, st, wfID, prev))
	saveHistory(t, st, "inquiry_continued_as_new", last)
}

// history fetches one run's history (runID "": the latest run).
func history(t *testing.T, st *devstack.Stack, wfID, runID string) *historypb.History {
	t.Helper()
	h := &historypb.History{}
	it := st.Client.GetWorkflowHistory(context.Background(), wfID, runID, false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	return h
}

// saveHistory replays h against today's code and, when recording, writes it
// to testdata/<name>_<historyVersion>.json unless that file exists (or
// HUNTDESK_RERECORD names it).
func saveHistory(t *testing.T, st *devstack.Stack, name string, h *historypb.History) {
	t.Helper()
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(workflows.EligibilityApplicationWorkflow, workflow.RegisterOptions{Name: workflows.ApplicationWorkflow})
	replayer.RegisterWorkflowWithOptions(workflows.ExpertInquiryWorkflow, workflow.RegisterOptions{Name: workflows.InquiryWorkflow})
	replayer.RegisterWorkflowWithOptions(workflows.AlertNotificationWorkflow, workflow.RegisterOptions{Name: workflows.AlertWorkflow})
	replayer.RegisterWorkflowWithOptions(workflows.NotificationRuleTestWorkflow, workflow.RegisterOptions{Name: workflows.RuleTestWorkflow})
	if err := replayer.ReplayWorkflowHistory(nil, h); err != nil {
		t.Fatalf("%s does not replay: %v", name, err)
	}
	if os.Getenv("HUNTDESK_RECORD_HISTORIES") == "" {
		return
	}
	name += "_" + historyVersion
	path := filepath.Join("..", "workflows", "testdata", name+".json")
	if _, err := os.Stat(path); err == nil && !slices.Contains(strings.Split(os.Getenv("HUNTDESK_RERECORD"), ","), name) {
		t.Logf("%s exists: kept (HUNTDESK_RERECORD=%s replaces it)", path, name)
		return
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %s", path)
}

// TestRecordAlertHistories records Process C's paths: an alert whose rules
// match two recipients, an alert no rule matches, and a rule's test email.
func TestRecordAlertHistories(t *testing.T) {
	st := stack(t, t.TempDir(), storetest.DSN(t), time.Hour)
	defer st.Close()
	c := client{t: t, base: st.URL}
	tok := st.Tokens
	contoso, manager, expert := tok["admin@contoso.example"], tok["manager@huntdesk.example"], tok["expert@huntdesk.example"]
	var app struct{ ID string }
	c.call("POST", "/api/v1/applications", contoso, map[string]any{"contact_name": "C", "contact_email": "c@contoso.example", "accept_privacy_statement": true}).decode(t, &app)
	if r := c.call("POST", "/api/v1/applications/"+app.ID+"/approve", manager, map[string]any{}); r.status != 200 {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	var rule struct{ ID string }
	c.call("POST", "/api/v1/notification-rules", contoso, map[string]any{"name": "SOC", "recipients": []string{"soc@contoso.example", "ciso@contoso.example"}, "min_severity": "high"}).decode(t, &rule)
	var me struct{ Org struct{ ID string } }
	c.call("GET", "/api/v1/me", contoso, nil).decode(t, &me)
	raise := func(sev string) string {
		var a struct{ ID string }
		r := c.call("POST", "/api/v1/alerts", expert, map[string]any{"org_id": me.Org.ID, "title": "Credential theft", "severity": sev, "category": "CredentialAccess",
			"devices": []map[string]string{{"id": "dev-7", "name": "FIN-LAPTOP-7"}}})
		r.decode(t, &a)
		if r.status != 201 {
			t.Fatalf("raise: %d %s", r.status, r.body)
		}
		return a.ID
	}
	var test struct {
		WorkflowID string `json:"workflow_id"`
	}
	if r := c.call("POST", "/api/v1/notification-rules/"+rule.ID+"/test", contoso, nil, "Idempotency-Key", "record-1"); r.status != 202 {
		t.Fatalf("test email: %d %s", r.status, r.body)
	} else {
		r.decode(t, &test)
	}
	for name, wfID := range map[string]string{
		"alert_notified_two_recipients": workflows.AlertWorkflowID(raise("high")),
		"alert_no_rule_matched":         workflows.AlertWorkflowID(raise("low")),
		"notification_rule_test_email":  test.WorkflowID,
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := st.Client.GetWorkflow(ctx, wfID, "").Get(ctx, nil)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		saveHistory(t, st, name, history(t, st, wfID, ""))
	}
}

// userID finds a user's id through the API.
func userID(t *testing.T, c client, managerToken, email string) string {
	t.Helper()
	var l struct{ Items []struct{ ID, Email string } }
	c.call("GET", "/api/v1/users?limit=200", managerToken, nil).decode(t, &l)
	for _, u := range l.Items {
		if u.Email == email {
			return u.ID
		}
	}
	t.Fatalf("no user %s", email)
	return ""
}
